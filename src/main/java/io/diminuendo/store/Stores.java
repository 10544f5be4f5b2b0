package io.diminuendo.store;

import java.io.IOException;
import java.net.InetAddress;
import java.sql.SQLException;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import io.agroal.api.AgroalDataSource;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.quarkus.agroal.DataSource;
import io.quarkus.runtime.StartupEvent;

/**
 * Picks the store named by {@code diminuendo.store.kind} and starts it before the registry loads sessions. The
 * SQLite datasources are Quarkus' (configured in application.properties, idle until used); PostgreSQL gets pools of
 * its own from {@code diminuendo.store.jdbc-url}, so its URL and credentials are ordinary runtime settings.
 */
@ApplicationScoped
public class Stores {
    private final EventStore store;
    private final String podName;

    public Stores(GatewayConfig config, GatewayMetrics metrics, AgroalDataSource readPool,
            @DataSource("writer") AgroalDataSource writerSource) {
        this.podName = config.cluster().podName().filter(n -> !n.isBlank()).orElseGet(Stores::hostName);
        this.store = switch (config.store().kind()) {
            case SQLITE -> new SqliteEventStore(readPool, writerSource, config.store(), metrics);
            case POSTGRESQL -> new PostgresEventStore(config.store(), metrics, podName,
                    config.bus().kind() == GatewayConfig.BusKind.NATS);
        };
    }

    void start(@Observes @Priority(10) StartupEvent event) throws SQLException, IOException {
        if (store instanceof SqliteEventStore sqlite) {
            sqlite.start();
        } else if (store instanceof PostgresEventStore postgres) {
            postgres.start();
        }
    }

    @Produces
    @Singleton
    EventStore store() {
        return store;
    }

    /** The shared store's leases; the embedded store belongs to one process, which holds every lease. */
    @Produces
    @Singleton
    Leases leases() {
        return store instanceof PostgresEventStore postgres ? postgres.leases() : new SoleOwner();
    }

    /** This pod's name in the cluster: {@code diminuendo.cluster.pod-name}, else the host name. */
    public String podName() {
        return podName;
    }

    private static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "pod-" + ProcessHandle.current().pid();
        }
    }
}

package io.diminuendo.health;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import io.diminuendo.connection.ConnectionRegistry;
import io.diminuendo.store.StoreHealth;

/** Ready when the database takes a real write through the writer and the writer is not stalled. */
@Readiness
@ApplicationScoped
public class StoreReadinessCheck implements HealthCheck {
    private static final long PROBE_TIMEOUT_MS = 2000;

    private final StoreHealth store;
    private final ConnectionRegistry connections;

    public StoreReadinessCheck(StoreHealth store, ConnectionRegistry connections) {
        this.store = store;
        this.connections = connections;
    }

    @Override
    public HealthCheckResponse call() {
        boolean healthy = store.writerHealthy();
        boolean writable = healthy && store.probeWritable(PROBE_TIMEOUT_MS);
        boolean accepting = !connections.isShuttingDown();
        return HealthCheckResponse.named("store")
                .status(writable && accepting)
                .withData("writable", writable)
                .withData("writerHealthy", healthy)
                .withData("queueDepth", store.queueDepth())
                .withData("shuttingDown", !accepting)
                .build();
    }
}

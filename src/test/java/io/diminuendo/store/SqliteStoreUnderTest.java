package io.diminuendo.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;

import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.supplier.AgroalDataSourceConfigurationSupplier;
import io.diminuendo.metrics.GatewayMetrics;

/**
 * A {@link SqliteEventStore} built outside Quarkus, on Agroal pools like the gateway's (a read pool of 8 and the
 * writer's pool of 2), for the writer benchmark and store tests that need a file of their own (a small volume, say).
 */
final class SqliteStoreUnderTest implements AutoCloseable {
    final SqliteEventStore store;
    private final AgroalDataSource readPool;
    private final AgroalDataSource writerPool;

    private SqliteStoreUnderTest(SqliteEventStore store, AgroalDataSource readPool, AgroalDataSource writerPool) {
        this.store = store;
        this.readPool = readPool;
        this.writerPool = writerPool;
    }

    /** Opens (creating it) the store at {@code settings.path()} and starts its writer. */
    static SqliteStoreUnderTest start(StoreSettings settings, GatewayMetrics metrics) throws Exception {
        String url = "jdbc:sqlite:" + Path.of(settings.path()).toAbsolutePath()
                + "?journal_mode=WAL&busy_timeout=5000&synchronous=NORMAL";
        AgroalDataSource readPool = pool(url, 8);
        AgroalDataSource writerPool = pool(url, 2);
        SqliteEventStore store = new SqliteEventStore(readPool, writerPool, settings, metrics);
        store.start();
        return new SqliteStoreUnderTest(store, readPool, writerPool);
    }

    private static AgroalDataSource pool(String url, int maxSize) throws Exception {
        return AgroalDataSource.from(new AgroalDataSourceConfigurationSupplier()
                .connectionPoolConfiguration(p -> p.minSize(0).maxSize(maxSize)
                        .connectionFactoryConfiguration(f -> f.jdbcUrl(url).connectionProviderClassName("org.sqlite.JDBC"))));
    }

    /**
     * A connection of the writer's pool: after {@code store.drainAndStop()}, with no checkpointer, the one the writer
     * wrote on (the pool keeps it open, with its settings).
     */
    Connection writerPoolConnection() throws SQLException {
        return writerPool.getConnection();
    }

    /** Drains and stops the writer, then closes both pools. */
    @Override
    public void close() {
        store.drainAndStop();
        readPool.close();
        writerPool.close();
    }
}

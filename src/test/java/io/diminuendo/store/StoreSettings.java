package io.diminuendo.store;

import java.time.Duration;
import java.util.Optional;

import io.diminuendo.config.GatewayConfig;

/**
 * The store settings that the writer benchmarks and the store tests build a store with: the gateway's defaults
 * (read pool of 8, queue 65536, batches of {@code batchRows} rows or 25 ms, the engine's linger) but the values under
 * test; the rest of the gateway's configuration is not needed.
 */
record StoreSettings(GatewayConfig.StoreKind kind, String path, Optional<String> jdbcUrl,
        Optional<String> username, Optional<String> password, GatewayConfig.Synchronous synchronous, int batchRows,
        int checkpointMs) implements GatewayConfig.Store {

    static StoreSettings sqlite(String path, GatewayConfig.Synchronous synchronous, int batchRows, int checkpointMs) {
        return new StoreSettings(GatewayConfig.StoreKind.SQLITE, path, Optional.empty(), Optional.empty(),
                Optional.empty(), synchronous, batchRows, checkpointMs);
    }

    static StoreSettings postgresql(String jdbcUrl, String username, String password, int batchRows) {
        return new StoreSettings(GatewayConfig.StoreKind.POSTGRESQL, "unused.db", Optional.of(jdbcUrl),
                Optional.of(username), password.isEmpty() ? Optional.empty() : Optional.of(password),
                GatewayConfig.Synchronous.NORMAL, batchRows, 0);
    }

    @Override
    public int readPoolSize() {
        return 8;
    }

    @Override
    public GatewayConfig.Writer writer() {
        return new GatewayConfig.Writer() {
            @Override
            public int queueCapacity() {
                return 65536;
            }

            @Override
            public int maxBatchRows() {
                return batchRows;
            }

            @Override
            public Duration maxBatchDelay() {
                return Duration.ofMillis(25);
            }

            @Override
            public Optional<Duration> linger() {
                return Optional.empty();
            }

            @Override
            public GatewayConfig.Synchronous synchronous() {
                return synchronous;
            }

            @Override
            public Duration checkpointInterval() {
                return Duration.ofMillis(checkpointMs);
            }

            @Override
            public long lowSpaceBytes() {
                return 64L << 20;
            }

            @Override
            public long pageCacheBytes() {
                return 16L << 20;
            }

            @Override
            public Duration stallThreshold() {
                return Duration.ofSeconds(10);
            }
        };
    }
}

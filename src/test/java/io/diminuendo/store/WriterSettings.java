package io.diminuendo.store;

import java.time.Duration;
import java.util.Optional;

import io.diminuendo.config.GatewayConfig;

/**
 * Writer settings for tests that drive a {@link BatchWriter} directly: a queue and batch size, 1 ms batches and no
 * linger unless given.
 */
record WriterSettings(int queueCapacity, int maxBatchRows, Duration maxBatchDelay, Optional<Duration> linger)
        implements GatewayConfig.Writer {

    WriterSettings(int queueCapacity, int maxBatchRows) {
        this(queueCapacity, maxBatchRows, Duration.ofMillis(1), Optional.empty());
    }

    @Override
    public GatewayConfig.Synchronous synchronous() {
        return GatewayConfig.Synchronous.NORMAL;
    }

    @Override
    public Duration checkpointInterval() {
        return Duration.ofSeconds(1);
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
        return Duration.ofSeconds(5);
    }
}

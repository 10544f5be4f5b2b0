package io.diminuendo.store;

import java.time.Duration;

import io.diminuendo.config.GatewayConfig;

/** Writer settings for tests that drive a {@link BatchWriter} directly: a queue and batch size, 1 ms batches. */
record WriterSettings(int queueCapacity, int maxBatchRows) implements GatewayConfig.Writer {

    @Override
    public Duration maxBatchDelay() {
        return Duration.ofMillis(1);
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
    public Duration stallThreshold() {
        return Duration.ofSeconds(5);
    }
}

package io.diminuendo.config;

import static io.diminuendo.config.TestConfigs.config;
import static io.diminuendo.config.TestConfigs.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * {@code diminuendo.store.writer.linger}: unset by default (the store picks: 20 ms on SQLite, 0 on PostgreSQL), never
 * negative and never longer than {@code max-batch-delay}, which bounds every batch and must itself stay below the
 * {@code stall-threshold} at which readiness reports the writer stalled.
 */
class WriterLingerSettingsTest {
    @Test
    void unsetByDefaultWithinTheDefaultBatchDelay() {
        GatewayConfig.Writer writer = config(Map.of()).store().writer();
        assertThat(writer.linger()).isEmpty();
        assertThat(writer.maxBatchDelay()).isEqualTo(Duration.ofMillis(25));
        assertThat(problems(Map.of())).isEmpty();
        assertThat(problems(Map.of("diminuendo.store.writer.linger", "0"))).isEmpty();
        assertThat(problems(Map.of("diminuendo.store.writer.linger", "25ms"))).isEmpty();
    }

    @Test
    void aLingerLongerThanTheBatchDelayIsRefusedNamingBothProperties() {
        assertThat(problems(Map.of("diminuendo.store.writer.linger", "20ms",
                "diminuendo.store.writer.max-batch-delay", "5ms"))).containsExactly(
                        "diminuendo.store.writer.linger (20 ms) must not exceed diminuendo.store.writer.max-batch-delay"
                                + " (5 ms), which bounds every batch");
    }

    @Test
    void aNegativeLingerIsRefusedNamingTheProperty() {
        assertThat(problems(Map.of("diminuendo.store.writer.linger", "-1ms"))).containsExactly(
                "diminuendo.store.writer.linger must not be negative (0 commits as soon as the queue is empty)");
    }

    @Test
    void aBatchDelayNoShorterThanTheStallThresholdIsRefusedNamingBothProperties() {
        assertThat(problems(Map.of("diminuendo.store.writer.max-batch-delay", "10s"))).containsExactly(
                "diminuendo.store.writer.max-batch-delay (10000 ms) must be shorter than"
                        + " diminuendo.store.writer.stall-threshold (10000 ms): a batch that waits that long would"
                        + " report the writer stalled");
        assertThat(problems(Map.of("diminuendo.store.writer.max-batch-delay", "10s",
                "diminuendo.store.writer.stall-threshold", "30s"))).isEmpty();
    }
}

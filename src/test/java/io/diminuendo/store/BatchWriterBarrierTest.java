package io.diminuendo.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.EventKind;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Barriers are never refused, so they must not pile up in the writer's queue: while the writer has not reached the
 * last barrier and no write followed it, a new barrier shares it. (The writer thread is not started here, so
 * nothing is taken from the queue.)
 */
class BatchWriterBarrierTest {
    private static final int CAPACITY = 16;

    private final BatchWriter writer = new BatchWriter(null, new WriterSettings(CAPACITY, 4),
            new GatewayMetrics(new SimpleMeterRegistry()), "running");

    private static StoredEvent event(long seq) {
        return new StoredEvent("s", seq, "t", EventKind.TEXT_DELTA, 0, "{}");
    }

    @Test
    void barriersWithNoWriteBetweenThemShareOneSlotOfTheQueue() {
        var first = writer.barrier();
        for (int i = 0; i < 10_000; i++) {
            assertThat(writer.barrier()).isSameAs(first);
        }
        assertThat(writer.queueDepth()).isEqualTo(1);
    }

    @Test
    void aWriteAfterABarrierNeedsANewOneAndTheQueueStaysWithinTwiceItsCapacity() {
        var before = writer.barrier();
        assertThat(writer.tryAppend(event(1))).isTrue();
        var after = writer.barrier();
        assertThat(after).isNotSameAs(before);
        for (int i = 2; writer.tryAppend(event(i)); i++) {
            for (int j = 0; j < 100; j++) {
                writer.barrier();
            }
        }
        for (int j = 0; j < 100; j++) {
            writer.barrier();
        }
        assertThat(writer.queueDepth()).as("writes and barriers queued").isLessThanOrEqualTo(2 * CAPACITY + 1);
    }
}

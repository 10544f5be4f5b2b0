package io.diminuendo.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.EventKind;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The WAL must not fill a small volume by itself. Under a stream of small commits the WAL only starts over once a
 * checkpoint has copied all of it, so it grows until the writer finishes a checkpoint at 1,000 pages (4 MB): on a
 * 4 MiB volume it took the whole disk first, with 300 KB of data. That wedges the store for good: the checkpoint
 * that would let the WAL start over must grow the database file, and the WAL holds the space it needs. This is how
 * {@code DiskFullIT}'s writer kept failing after the test had freed the space (the rest of the turn filled the volume
 * with WAL). With little free space the writer checkpoints after every commit, so the WAL stays small. Skipped where
 * a tmpfs cannot be mounted, and with {@code -Ddiminuendo.it.disk-full=false} like {@code DiskFullIT}.
 */
@DisabledIfSystemProperty(named = "diminuendo.it.disk-full", matches = "false")
class SmallVolumeWalTest {
    private static final int EVENTS = 3_000;
    private static final int PER_COMMIT = 5;

    @Test
    void aStreamOfSmallCommitsFillsTheDatabaseNotTheWal() throws Exception {
        GatewayMetrics metrics = new GatewayMetrics(new SimpleMeterRegistry());
        try (SmallVolume volume = SmallVolume.mount("4m");
                SqliteStoreUnderTest opened = SqliteStoreUnderTest.start(StoreSettings.sqlite(
                        volume.root.resolve("diminuendo.db").toString(), GatewayConfig.Synchronous.NORMAL, 1024, 100),
                        metrics)) {
            EventStore store = opened.store;
            Path db = volume.root.resolve("diminuendo.db");
            Path wal = volume.root.resolve("diminuendo.db-wal");
            String frame = "{\"type\":\"event\",\"kind\":\"text_delta\",\"data\":{\"text\":\"" + "token ".repeat(20) + "\"}}";
            for (long seq = 1; seq <= EVENTS; seq++) {
                assertThat(store.tryAppend(new StoredEvent("s", seq, "t", EventKind.TEXT_DELTA, 0, frame))).isTrue();
                if (seq % PER_COMMIT == 0) {
                    try {
                        store.barrier().toCompletableFuture().get(10, TimeUnit.SECONDS);
                    } catch (TimeoutException e) {
                        // the writer keeps retrying a commit that fails (a barrier waits for streamed events)
                    }
                    assertThat(metrics.writerFailures.count()).as("failed commits by seq %d (WAL %d bytes, database %d)",
                            seq, Files.size(wal), Files.size(db)).isZero();
                }
            }
            assertThat(store.readEvents("s", 0, EVENTS, EVENTS)).hasSize(EVENTS);
            assertThat(Files.size(wal)).as("WAL bytes").isLessThan(1L << 20);
        }
    }
}

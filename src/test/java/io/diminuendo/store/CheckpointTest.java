package io.diminuendo.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.diminuendo.protocol.EventKind;
import io.diminuendo.support.TestDatabases;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The writer leaves checkpoints to a background thread (SQLite's automatic checkpoint is off on its connection):
 * what is written still reaches the database file, and the WAL does not keep growing with the data written.
 */
@QuarkusTest
class CheckpointTest {
    private static final int EVENTS = 40_000;
    private static final long WAL_BOUND = (16L << 20) + (1L << 20);

    @Inject
    EventStore store;

    @ConfigProperty(name = "diminuendo.store.path")
    String path;

    @Test
    void writtenEventsReachTheDatabaseFileAndTheWalStaysBounded() throws Exception {
        assumeFalse(TestDatabases.POSTGRESQL, "WAL checkpoints are the SQLite store's");
        Path db = Path.of(path);
        Path wal = Path.of(path + "-wal");
        long before = Files.size(db);
        String session = "checkpoint-" + UUID.randomUUID();
        String frame = "{\"type\":\"event\",\"data\":\"" + "x".repeat(1000) + "\"}";
        long seq = 0;
        while (seq < EVENTS) {
            if (store.tryAppend(new StoredEvent(session, seq + 1, "t", EventKind.TEXT_DELTA, 0, frame))) {
                seq++;
            } else {
                Thread.sleep(1);
            }
        }
        store.barrier().toCompletableFuture().get(30, TimeUnit.SECONDS);
        long written = (long) EVENTS * frame.length();

        long[] next = { seq };
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            // a write now and then: the WAL starts over (and is cut back) only when a transaction begins
            store.tryAppend(new StoredEvent(session, ++next[0], "t", EventKind.TEXT_DELTA, 0, "{}"));
            assertThat(Files.size(db) - before).as("bytes copied into the database file").isGreaterThan(written * 3 / 4);
            assertThat(Files.size(wal)).as("WAL size after %d MB written", written >> 20).isLessThanOrEqualTo(WAL_BOUND);
        });
        assertThat(store.readEvents(session, 0, EVENTS, 10)).hasSize(10);
        assertThat(store.readEvents(session, EVENTS - 1, EVENTS, 10)).hasSize(1);
    }
}

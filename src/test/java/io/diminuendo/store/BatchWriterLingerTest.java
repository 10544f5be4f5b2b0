package io.diminuendo.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.sqlite.SQLiteDataSource;

import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.EventKind;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * {@code diminuendo.store.writer.linger}: streamed events that trickle in while the queue is dry wait for each other
 * and share a commit, but a write that someone waits for (a barrier before a read, a reply, a shutdown) is committed
 * at once, with whatever streamed events are already queued. Real SQLite statements on an in-memory database.
 */
class BatchWriterLingerTest {
    private static final Duration GAP = Duration.ofMillis(20);

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final GatewayMetrics metrics = new GatewayMetrics(registry);
    /** The streamed events of each commit, in commit order. */
    private final List<List<Long>> commits = new CopyOnWriteArrayList<>();
    private BatchWriter writer;

    @AfterEach
    void stop() {
        if (writer != null) {
            writer.drainAndStop();
        }
    }

    private void start(Duration linger) throws SQLException {
        start(1024, linger);
    }

    private void start(int capacity, Duration linger) throws SQLException {
        writer = new BatchWriter(new MemoryDialect(), new WriterSettings(capacity, 1024, Duration.ofSeconds(30),
                Optional.of(linger)), metrics, "running");
        writer.onCommitted(events -> commits.add(events.stream().map(StoredEvent::seq).toList()));
        writer.start();
    }

    private static StoredEvent event(long seq) {
        return new StoredEvent("s", seq, "t", EventKind.TEXT_DELTA, 0, "{\"seq\":" + seq + "}");
    }

    private void trickle(long from, long to) throws InterruptedException {
        for (long seq = from; seq <= to; seq++) {
            if (seq > from) {
                Thread.sleep(GAP.toMillis());
            }
            assertThat(writer.tryAppend(event(seq))).isTrue();
        }
    }

    private List<Long> stored() {
        return commits.stream().flatMap(List::stream).toList();
    }

    @Test
    void withoutALingerEveryDryQueueIsACommit() throws Exception {
        start(Duration.ZERO);
        trickle(1, 5);
        await().atMost(Duration.ofSeconds(10)).until(() -> stored().size() == 5);
        assertThat(commits).as("events %s apart", GAP).hasSizeGreaterThan(1);
    }

    @Test
    void eventsTricklingInWhileTheWriterLingersShareOneCommit() throws Exception {
        start(Duration.ofSeconds(3));
        trickle(1, 5);
        await().atMost(Duration.ofSeconds(10)).until(() -> stored().size() == 5);
        assertThat(commits).containsExactly(List.of(1L, 2L, 3L, 4L, 5L));
        Timer commit = registry.get("diminuendo.writer.commit.latency").timer();
        assertThat(commit.max(TimeUnit.MILLISECONDS)).as("the commit's latency, which the 3 s linger is not part of")
                .isLessThan(1000);
    }

    @Test
    void aBarrierEndsTheLingerAtOnce() throws Exception {
        aWaitedForWriteEndsTheLinger(BatchWriter::barrier);
    }

    @Test
    void anAcknowledgementEndsTheLingerAtOnce() throws Exception {
        aWaitedForWriteEndsTheLinger(BatchWriter::acknowledgement);
    }

    @Test
    void aSessionWriteEndsTheLingerAtOnce() throws Exception {
        aWaitedForWriteEndsTheLinger(w -> w.insertSession(new SessionRecord("s", "tenant", "owner", null, "idle",
                null, null, "e1", 1, 1)));
    }

    @Test
    void aFullQueueEndsTheLinger() throws Exception {
        // a queue smaller than a batch: the writer holds all of it, and no more can come until it commits
        start(16, Duration.ofSeconds(30));
        for (long seq = 1; seq <= 16; seq++) {
            assertThat(writer.tryAppend(event(seq))).isTrue();
        }
        assertThat(writer.tryAppend(event(17))).as("the queue is full").isFalse();
        CountDownLatch room = new CountDownLatch(1);
        writer.whenWritable(room::countDown);
        assertThat(room.await(5, TimeUnit.SECONDS)).as("room within 5 s of a 30 s linger").isTrue();
        assertThat(writer.tryAppend(event(17))).isTrue();
    }

    /** The linger is capped at the 30 s batch delay: a write that waited for it would time out. */
    private void aWaitedForWriteEndsTheLinger(Function<BatchWriter, CompletionStage<Void>> write) throws Exception {
        start(Duration.ofMinutes(1));
        trickle(1, 3);
        Thread.sleep(GAP.toMillis()); // the writer is lingering over events 1-3
        assertThat(commits).isEmpty();
        write.apply(writer).toCompletableFuture().get(5, TimeUnit.SECONDS);
        // the listener hears of a commit just after the writes' waiters do
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(stored())
                .as("the events queued before it, in the same commit").containsExactly(1L, 2L, 3L));
    }

    @Test
    void aShutdownEndsTheLingerAndStoresTheEvents() throws Exception {
        start(Duration.ofMinutes(1));
        trickle(1, 3);
        long t0 = System.nanoTime();
        writer.drainAndStop();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
        assertThat(stored()).containsExactly(1L, 2L, 3L);
    }

    /** The SQLite schema and statements of the store, on a private in-memory database. */
    private final class MemoryDialect extends SqliteSchemaDialect {
        MemoryDialect() {
            super(metrics);
        }

        @Override
        public Connection open() throws SQLException {
            SQLiteDataSource memory = new SQLiteDataSource(); // not DriverManager: Quarkus's class loaders hide it
            memory.setUrl("jdbc:sqlite::memory:");
            return memory.getConnection();
        }
    }
}

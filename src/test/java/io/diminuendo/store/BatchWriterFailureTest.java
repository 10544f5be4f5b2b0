package io.diminuendo.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.sqlite.SQLiteDataSource;

import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.EventKind;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The writer while its commits fail (a full disk): streamed events are kept and written again, and a barrier queued
 * behind them completes only once they are committed. A replay, a history page or a backend's conversation reads
 * the store after a barrier; if the barrier gave up with the failed batch, they would read a stream with a hole
 * where the events still waiting in the writer belong.
 */
class BatchWriterFailureTest {
    private final FillableDisk disk = new FillableDisk();
    private final GatewayMetrics metrics = new GatewayMetrics(new SimpleMeterRegistry());
    private final BatchWriter writer = new BatchWriter(disk, new WriterSettings(64, 8), metrics, "running");

    @AfterEach
    void stop() {
        disk.full = false;
        disk.statementsFailToClose = false;
        disk.failAfterCommit = false;
        writer.drainAndStop();
    }

    private static StoredEvent event(long seq) {
        return new StoredEvent("s", seq, "t", EventKind.TEXT_DELTA, 0, "{\"seq\":" + seq + "}");
    }

    @Test
    void aBarrierBehindEventsThatFailedToCommitWaitsUntilTheyAreStored() throws Exception {
        writer.start();
        assertThat(writer.tryAppend(event(1))).isTrue();
        writer.barrier().toCompletableFuture().get();

        disk.full = true;
        for (long seq = 2; seq <= 5; seq++) {
            assertThat(writer.tryAppend(event(seq))).isTrue();
        }
        CompletableFuture<Void> barrier = writer.barrier().toCompletableFuture();
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.writerFailures.count() >= 2);
        assertThat(barrier).as("the barrier while events 2-5 are not stored").isNotDone();
        assertThat(disk.storedSeqs()).containsExactly(1L);

        disk.full = false;
        barrier.get(10, TimeUnit.SECONDS);
        assertThat(disk.storedSeqs()).as("everything before the barrier, once, in order").containsExactly(1L, 2L, 3L, 4L, 5L);
    }

    @Test
    void anAcknowledgementFailsWithTheBatchWhileABarrierBesideItWaits() throws Exception {
        writer.start();
        disk.full = true;
        assertThat(writer.tryAppend(event(1))).isTrue();
        CompletableFuture<Void> acknowledgement = writer.acknowledgement().toCompletableFuture();
        CompletableFuture<Void> barrier = writer.barrier().toCompletableFuture();
        await().atMost(Duration.ofSeconds(10)).until(acknowledgement::isDone);
        assertThat(acknowledgement).as("the reply to the request that wrote event 1").isCompletedExceptionally();
        assertThat(barrier).isNotDone();

        disk.full = false;
        barrier.get(10, TimeUnit.SECONDS);
        assertThat(disk.storedSeqs()).containsExactly(1L);
    }

    @Test
    void aRequestWrittenWhileTheDiskIsFullIsAnsweredWithTheFailureAndTheBarrierAfterItStillCompletes() throws Exception {
        writer.start();
        disk.full = true;
        CompletableFuture<Void> insert = writer.insertSession(new SessionRecord("s", "tenant", "alice", "title",
                "active", "{}", "simulated", "epoch", 0, 0)).toCompletableFuture();
        CompletableFuture<Void> barrier = writer.barrier().toCompletableFuture();
        await().atMost(Duration.ofSeconds(10)).until(insert::isDone);
        assertThat(insert).isCompletedExceptionally();

        disk.full = false;
        barrier.get(10, TimeUnit.SECONDS);
        assertThat(disk.sessions).isEmpty();
    }

    /**
     * A failing writer logs its first failure, not each retry; but a failure for another reason is logged at once, so
     * that the log names what keeps the writer from recovering once the first cause is gone.
     */
    @Test
    void aFailureForAnotherReasonIsLoggedAtOnce() throws Exception {
        List<String> errors = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.SEVERE.intValue()) {
                    errors.add(String.valueOf(r.getMessage()));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger log = Logger.getLogger(BatchWriter.class.getName());
        log.addHandler(capture);
        try {
            writer.start();
            disk.full = true;
            assertThat(writer.tryAppend(event(1))).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> metrics.writerFailures.count() >= 3);
            assertThat(errors).as("three failures for one reason").hasSize(1);
            disk.reason = "UNIQUE constraint failed: events.session_id, events.seq";
            await().atMost(Duration.ofSeconds(10)).until(() -> errors.size() == 2);
            assertThat(errors.get(1)).contains("UNIQUE constraint failed");
        } finally {
            log.removeHandler(capture);
        }
    }

    /**
     * After a failed commit the writer closes its connection and opens another, and the connection goes back to the
     * pool even when its statements fail to close: the writer's pool holds two (the write connection and the
     * checkpointer's), so two leaked connections would leave it unable to reopen for good.
     */
    @Test
    void aFailedConnectionIsClosedEvenWhenItsStatementsWillNotClose() throws Exception {
        writer.start();
        disk.full = true;
        disk.statementsFailToClose = true;
        assertThat(writer.tryAppend(event(1))).isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.writerFailures.count() >= 3);
        disk.full = false;
        writer.barrier().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(disk.storedSeqs()).containsExactly(1L);
        assertThat(disk.opened).hasSizeGreaterThanOrEqualTo(4);
        assertThat(disk.opened.stream().filter(c -> !isClosed(c)).count()).as("connections still open").isEqualTo(1);
    }

    /**
     * The engine's after-commit step (SQLite's writer checkpoint) can leave the connection unusable, outside a
     * transaction say: the writer then opens another instead of writing its next batch on it.
     */
    @Test
    void aConnectionThatFailsAfterACommitIsReplaced() throws Exception {
        writer.start();
        disk.failAfterCommit = true;
        assertThat(writer.tryAppend(event(1))).isTrue();
        writer.barrier().toCompletableFuture().get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> disk.opened.size() >= 2);
        disk.failAfterCommit = false;
        assertThat(writer.tryAppend(event(2))).isTrue();
        writer.barrier().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(disk.storedSeqs()).containsExactly(1L, 2L);
        assertThat(isClosed(disk.opened.get(0))).as("the connection that failed").isTrue();
        assertThat(disk.opened.stream().filter(c -> !isClosed(c)).count()).as("connections still open").isEqualTo(1);
    }

    private static boolean isClosed(Connection c) {
        try {
            return c.isClosed();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A write connection (in-memory SQLite, only for its transaction calls) whose statements keep appends and session
     * rows in lists, and whose flush fails like a full disk while {@link #full} is set. What a failed transaction
     * wrote is dropped with its statements, as a rollback would.
     */
    private static final class FillableDisk implements WriterDialect {
        volatile boolean full;
        volatile String reason = "database or disk is full";
        volatile boolean statementsFailToClose;
        volatile boolean failAfterCommit;
        final List<Connection> opened = new CopyOnWriteArrayList<>();
        final List<StoredEvent> stored = new CopyOnWriteArrayList<>();
        final List<SessionRecord> sessions = new CopyOnWriteArrayList<>();

        List<Long> storedSeqs() {
            return stored.stream().map(StoredEvent::seq).toList();
        }

        @Override
        public Connection open() throws SQLException {
            // not through DriverManager: under the Quarkus test class loaders it may not see the driver
            SQLiteDataSource memory = new SQLiteDataSource();
            memory.setUrl("jdbc:sqlite::memory:");
            Connection c = memory.getConnection();
            opened.add(c);
            return c;
        }

        @Override
        public void migrate(Connection c) {
        }

        @Override
        public void committed(Connection c) throws SQLException {
            if (failAfterCommit) {
                throw new SQLException("cannot start a transaction");
            }
        }

        @Override
        public WriteStatements prepare(Connection c) {
            return new WriteStatements() {
                private final List<StoredEvent> pending = new ArrayList<>();
                private final List<SessionRecord> pendingSessions = new ArrayList<>();

                @Override
                public void append(StoredEvent e) {
                    pending.add(e);
                }

                @Override
                public void flush() throws SQLException {
                    if (full) {
                        throw new SQLException(reason);
                    }
                }

                @Override
                public void committed() {
                    stored.addAll(pending);
                    sessions.addAll(pendingSessions);
                    pending.clear();
                    pendingSessions.clear();
                }

                @Override
                public boolean insert(SessionRecord s, int maxPerTenant) throws SQLException {
                    flush();
                    pendingSessions.add(s);
                    return true;
                }

                @Override
                public boolean update(SessionRecord s) {
                    return false;
                }

                @Override
                public void delete(String sessionId) {
                }

                @Override
                public String readMeta(String key) {
                    return null;
                }

                @Override
                public void writeMeta(String key, String value) {
                }

                @Override
                public void close() throws SQLException {
                    if (statementsFailToClose) {
                        throw new SQLException(reason);
                    }
                }
            };
        }
    }
}

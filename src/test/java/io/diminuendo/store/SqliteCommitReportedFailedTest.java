package io.diminuendo.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteDataSource;

import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.EventKind;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * sqlite-jdbc commits by running {@code COMMIT} and then {@code BEGIN} for the next transaction; when the second
 * fails, the driver reports the commit as failed although the batch is on disk. The writer then writes the batch's
 * events again. With the real SQLite statements, that retry must store nothing twice and not wedge the writer: a plain
 * insert would fail on the taken (session, seq) on every retry, for ever.
 */
class SqliteCommitReportedFailedTest {
    @TempDir
    Path dir;

    private final GatewayMetrics metrics = new GatewayMetrics(new SimpleMeterRegistry());
    private BatchWriter writer;

    @AfterEach
    void stop() {
        if (writer != null) {
            writer.drainAndStop();
        }
    }

    private static StoredEvent event(long seq) {
        return new StoredEvent("s", seq, "t", EventKind.TEXT_DELTA, 0, "{\"seq\":" + seq + "}");
    }

    @Test
    void aBatchWrittenAgainAfterACommitThatReachedTheDiskIsStoredOnceAndTheWriterGoesOn() throws Exception {
        String url = "jdbc:sqlite:" + dir.resolve("store.db");
        AtomicBoolean nextCommitReportsFailure = new AtomicBoolean();
        WriterDialect dialect = new SqliteSchemaDialect(metrics) {
            @Override
            public Connection open() throws SQLException {
                SQLiteDataSource file = new SQLiteDataSource();
                file.setUrl(url);
                Connection real = file.getConnection();
                return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                        new Class<?>[] {Connection.class}, (proxy, method, args) -> {
                            try {
                                Object result = method.invoke(real, args);
                                if (method.getName().equals("commit") && nextCommitReportsFailure.getAndSet(false)) {
                                    throw new SQLException("cannot start a transaction within a transaction");
                                }
                                return result;
                            } catch (InvocationTargetException e) {
                                throw e.getCause();
                            }
                        });
            }
        };
        writer = new BatchWriter(dialect, new WriterSettings(64, 8), metrics, "running");
        writer.start();

        nextCommitReportsFailure.set(true);
        for (long seq = 1; seq <= 3; seq++) {
            assertThat(writer.tryAppend(event(seq))).isTrue();
        }
        writer.barrier().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(metrics.writerFailures.count()).as("the commit reported as failed").isEqualTo(1);
        // the failed batch holds events 1-3 or the first of them, as the writer happened to pick them up
        assertThat(metrics.storeSeqConflicts.count()).as("events found stored when written again").isBetween(1.0, 3.0);

        assertThat(writer.tryAppend(event(4))).isTrue();
        writer.barrier().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(storedSeqs(url)).as("every event once, in order").containsExactly(1L, 2L, 3L, 4L);
        assertThat(metrics.writerFailures.count()).isEqualTo(1);
    }

    private static List<Long> storedSeqs(String url) throws SQLException {
        SQLiteDataSource file = new SQLiteDataSource();
        file.setUrl(url);
        List<Long> seqs = new ArrayList<>();
        try (Connection c = file.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT seq FROM events WHERE session_id = 's' ORDER BY seq")) {
            while (rs.next()) {
                seqs.add(rs.getLong(1));
            }
        }
        return seqs;
    }
}

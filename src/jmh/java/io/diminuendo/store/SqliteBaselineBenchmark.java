package io.diminuendo.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.protocol.EventKind;
import io.diminuendo.protocol.ServerFrames;
import io.diminuendo.upstream.EventMapper;

/**
 * The control for {@link WriterBenchmark}: the same rows, schema ({@link Migrations}), JDBC URL, pragmas, insert
 * statement and 1024-row transactions over 8 sessions (both parameters), but straight on one sqlite-jdbc connection
 * from the benchmark thread, with no queue, no writer thread and no pool. The gap between the two is what the store itself costs; this
 * score is what SQLite and its JDBC driver allow on this machine.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(1)
public class SqliteBaselineBenchmark {
    private static final int BATCH = 1024;

    /**
     * Sessions the rows go to, round robin. The events are clustered by session and seq, so each session's newest
     * B-tree leaf is rewritten by every commit that holds one of its rows: with 100 sessions that is most of the cost.
     */
    @Param({ "8" })
    public int sessions;

    /** Rows per transaction; a divisor of 1024 (an invocation writes 1024 rows). */
    @Param({ "1024" })
    public int rowsPerCommit;

    @Param({ "NORMAL", "FULL" })
    public GatewayConfig.Synchronous synchronous;

    /**
     * Extra pragmas, {@code ;}-separated, run before the schema is created: none by default; for experiments,
     * e.g. {@code -p pragmas=wal_autocheckpoint=0} or {@code -p "pragmas=page_size=8192"}.
     */
    @Param({ "" })
    public String pragmas;

    private String[] sessionIds;
    private long[] seqs;
    private int next;
    private String frame;
    private Path dir;
    private Connection connection;
    private PreparedStatement insert;

    @Setup(Level.Iteration)
    public void open() throws Exception {
        if (BATCH % rowsPerCommit != 0) {
            throw new IllegalArgumentException("rowsPerCommit must divide " + BATCH);
        }
        sessionIds = new String[sessions];
        seqs = new long[sessions];
        for (int i = 0; i < sessions; i++) {
            sessionIds[i] = String.format("3f2b8c1e-9a4d-4e7b-b1c2-%012d", i);
        }
        frame = ServerFrames.event(sessionIds[0], 1204, "8d7c6b5a-4f3e-4d2c-9b1a-0f1e2d3c4b5a", EventKind.TEXT_DELTA,
                1_760_000_000_000L, EventMapper.textData("I'll look at the failing test first. "));
        Path base = Path.of(System.getProperty("diminuendo.bench.dir", "target/jmh-store"));
        Files.createDirectories(base);
        dir = Files.createTempDirectory(base.toAbsolutePath(), "baseline-");
        connection = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("diminuendo.db")
                + "?journal_mode=WAL&busy_timeout=5000&synchronous=NORMAL");
        try (Statement s = connection.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("PRAGMA synchronous=" + synchronous.name());
            for (String pragma : pragmas.split(";")) {
                if (!pragma.isBlank()) {
                    s.execute("PRAGMA " + pragma.trim());
                }
            }
        }
        Migrations.apply(connection, Migrations.SQLITE);
        connection.setAutoCommit(false);
        insert = connection.prepareStatement(
                "INSERT INTO events (session_id, seq, turn_id, kind, ts, frame) VALUES (?, ?, ?, ?, ?, ?)"
                        + " ON CONFLICT (session_id, seq) DO NOTHING");
    }

    @TearDown(Level.Iteration)
    public void close() throws Exception {
        insert.close();
        connection.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void insertBatch() throws SQLException {
        long ts = System.currentTimeMillis();
        for (int i = 0; i < BATCH; i++) {
            int s = next;
            next = next + 1 == sessions ? 0 : next + 1;
            insert.setString(1, sessionIds[s]);
            insert.setLong(2, ++seqs[s]);
            insert.setString(3, "8d7c6b5a-4f3e-4d2c-9b1a-0f1e2d3c4b5a");
            insert.setString(4, "text_delta");
            insert.setLong(5, ts);
            insert.setString(6, frame);
            insert.addBatch();
            if ((i + 1) % rowsPerCommit == 0) {
                insert.executeBatch();
                connection.commit();
            }
        }
    }
}

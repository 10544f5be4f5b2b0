package io.diminuendo.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import io.diminuendo.metrics.GatewayMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Rows/s through the real {@link SqliteEventStore}: its bounded queue, its single writer thread and its batches
 * of {@code max-batch-rows} (default 1024) inserts committed in one transaction, with {@code synchronous=NORMAL}
 * (the default) and {@code FULL}. The store is built as the gateway builds it, minus CDI: two Agroal pools on
 * the JDBC URL of application.properties (the default pool, max 8, and the writer pool of two: the write connection and the checkpointer's), the
 * default writer settings, and its start-up hook (WAL, pragmas, migrations, writer thread).
 * <p>
 * One invocation appends {@value WriterLoad#ROWS} events round-robin over 8 streaming sessions from the benchmark thread
 * (as {@code SessionStream.tryPublish} does) and then waits for {@link EventStore#barrier()}, so the score counts
 * committed rows only. Each iteration starts on a fresh database file under {@code target/jmh-store}, on the
 * same disk as the project (a tmpfs would make FULL's fsyncs free); override with {@code -Ddiminuendo.bench.dir}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(1)
public class WriterBenchmark {
    @Param({ "NORMAL", "FULL" })
    public GatewayConfig.Synchronous synchronous;

    /** {@code diminuendo.store.writer.max-batch-rows}; the default only, other values with {@code -p maxBatchRows=N}. */
    @Param({ "1024" })
    public int maxBatchRows;

    /** {@code diminuendo.store.writer.checkpoint-interval} in ms: 0 = SQLite's autocheckpoint in the commits. */
    @Param({ "100", "0" })
    public int checkpointIntervalMs;

    private WriterLoad load;
    private Path dir;
    private SqliteStoreUnderTest opened;
    private SqliteEventStore store;
    private GatewayMetrics metrics;

    @Setup(Level.Iteration)
    public void open() throws Exception {
        Path base = Path.of(System.getProperty("diminuendo.bench.dir", "target/jmh-store"));
        Files.createDirectories(base);
        dir = Files.createTempDirectory(base.toAbsolutePath(), "writer-");
        Path db = dir.resolve("diminuendo.db");
        metrics = new GatewayMetrics(new SimpleMeterRegistry());
        opened = SqliteStoreUnderTest.start(StoreSettings.sqlite(db.toString(), synchronous, maxBatchRows,
                checkpointIntervalMs), metrics);
        store = opened.store;
        load = new WriterLoad();
    }

    @TearDown(Level.Iteration)
    public void close() throws IOException {
        opened.close();
        // the store's own meters: how full its batches were and how long a commit took
        System.out.printf(" (%d batches, mean %.0f rows, mean commit %.2f ms)", metrics.batchSize.count(),
                metrics.batchSize.mean(), metrics.commitLatency.mean(TimeUnit.MILLISECONDS));
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    @OperationsPerInvocation(WriterLoad.ROWS)
    public void appendBatched() throws Exception {
        load.appendAndCommit(store);
    }
}

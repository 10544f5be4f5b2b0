package io.diminuendo.store;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

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

import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.support.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Events/s through the real {@link PostgresEventStore}, the store of a cluster: its bounded queue, its single writer
 * thread and its batches of {@code max-batch-rows} (default 1024) events, each one {@code COPY} in one transaction. The store is built as a pod builds it, minus CDI: its own Agroal pools (read pool
 * of 8, one writer connection) on the configured JDBC URL, the default writer settings, and its start-up hook
 * (migrations under the advisory lock, writer thread).
 * <p>
 * One invocation appends {@value WriterLoad#ROWS} events as {@link WriterBenchmark} does and waits for
 * {@link EventStore#barrier()}, so the score counts committed events only. Each iteration runs on a fresh database,
 * created and dropped on the server of the PostgreSQL tests ({@link TestDatabases}: {@code DIMINUENDO_TEST_PG_URL},
 * default the local server as {@code postgres}). Target (the scale-out issue): ≥ 100,000 events/s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(1)
public class PostgresWriterBenchmark {

    /** {@code diminuendo.store.writer.max-batch-rows}; the default only, other values with {@code -p maxBatchRows=N}. */
    @Param({ "1024" })
    public int maxBatchRows;

    /**
     * {@code true}: as in a cluster, events are written only for sessions whose lease the pod holds (each batch first
     * reads and locks its sessions' rows of {@code session_leases}); the benchmark's sessions are leased to it.
     */
    @Param({ "false", "true" })
    public boolean fenced;

    private String database;
    private PostgresEventStore store;
    private GatewayMetrics metrics;
    private WriterLoad load;

    @Setup(Level.Iteration)
    public void open() throws Exception {
        database = TestDatabases.create();
        metrics = new GatewayMetrics(new SimpleMeterRegistry());
        store = new PostgresEventStore(StoreSettings.postgresql(TestDatabases.url(database), TestDatabases.USER,
                TestDatabases.PASSWORD, maxBatchRows), metrics, "bench", fenced);
        store.start();
        load = new WriterLoad();
        if (fenced) {
            for (String sessionId : load.sessionIds()) {
                if (store.leases().acquire(sessionId, "bench-turn", Duration.ofHours(1)) != null) {
                    throw new IllegalStateException("the benchmark's lease of " + sessionId + " is held elsewhere");
                }
            }
        }
    }

    @TearDown(Level.Iteration)
    public void close() {
        store.drainAndStop();
        // the store's own meters: how full its batches were and how long a commit took
        System.out.printf(" (%d batches, mean %.0f rows, mean commit %.2f ms)", metrics.batchSize.count(),
                metrics.batchSize.mean(), metrics.commitLatency.mean(TimeUnit.MILLISECONDS));
        TestDatabases.drop(database);
    }

    @Benchmark
    @OperationsPerInvocation(WriterLoad.ROWS)
    public void appendBatched() throws Exception {
        load.appendAndCommit(store);
    }
}

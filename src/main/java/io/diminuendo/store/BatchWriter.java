package io.diminuendo.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;

/**
 * The single writer of a store, whatever its engine: one thread that owns the only write connection and commits in
 * batches. A batch ends when the queue is drained, when it holds {@code max-batch-rows} writes, or
 * {@code max-batch-delay} after it began; a batch of streamed events alone waits up to {@code linger} for more when
 * the queue runs dry (nobody waits for their commit: they reached the subscribers before it), which with many
 * sessions streaming at once makes each commit carry several events of each session instead of one. The queue is
 * bounded by a reservation counter ({@code queue-capacity}): a full queue refuses new writes instead of growing. The
 * engine's SQL comes from a {@link WriterDialect}.
 */
final class BatchWriter {
    private static final Logger LOG = Logger.getLogger(BatchWriter.class);

    private final WriterDialect dialect;
    private final GatewayConfig.Writer config;
    private final GatewayMetrics metrics;
    private final String runningKey;
    private final LinkedBlockingQueue<WriteOp> queue = new LinkedBlockingQueue<>();
    /** Writes (not barriers) queued so far; a write's count is taken after it is in the queue. */
    private final AtomicLong writesQueued = new AtomicLong();
    private final Object barrierLock = new Object();
    /** The last barrier queued and the write count when it was: shared while no write follows it. */
    private CompletableFuture<Void> tailBarrier;
    private long tailBarrierAfter;
    private final AtomicInteger reserved = new AtomicInteger();
    private final ConcurrentLinkedQueue<Runnable> waitingForRoom = new ConcurrentLinkedQueue<>();
    private final int capacity;
    private final long lingerNanos;
    /** Writes of a failed batch that must be written again (only the writer thread touches it). */
    private final ArrayDeque<WriteOp> retry = new ArrayDeque<>();
    private volatile boolean previousRunUnclean;
    private volatile boolean lastCommitFailed;
    private int consecutiveFailures;
    /** The message of the last failed commit: a failure for another reason is logged at once. */
    private String lastFailure;
    /** Likewise for reopening the write connection after a failure. */
    private String lastReopenFailure;
    private volatile long batchStartedNanos;
    /** Set when a write that someone waits for is queued: a lingering writer commits at once. */
    private volatile boolean urgent;
    private volatile boolean stopped;
    private volatile Consumer<List<StoredEvent>> committedListener;
    private volatile Thread writerThread;
    private Connection writeConnection;
    private WriteStatements statements;

    /**
     * {@code runningKey} names the meta row that records whether this writer's run is still going, which tells the
     * next start whether the previous run stopped cleanly.
     */
    BatchWriter(WriterDialect dialect, GatewayConfig.Writer config, GatewayMetrics metrics, String runningKey) {
        this(dialect, config, Duration.ZERO, metrics, runningKey);
    }

    /** {@code defaultLinger} applies when {@code linger} is not set; the engine's store chooses it. */
    BatchWriter(WriterDialect dialect, GatewayConfig.Writer config, Duration defaultLinger, GatewayMetrics metrics,
            String runningKey) {
        this.dialect = dialect;
        this.config = config;
        this.metrics = metrics;
        this.runningKey = runningKey;
        this.capacity = config.queueCapacity();
        this.lingerNanos = Math.min(config.linger().orElse(defaultLinger).toNanos(), config.maxBatchDelay().toNanos());
    }

    /** Opens the write connection, migrates the schema, records this run as running and starts the thread. */
    void start() throws SQLException {
        writeConnection = dialect.open();
        dialect.migrate(writeConnection);
        statements = dialect.prepare(writeConnection);
        previousRunUnclean = "1".equals(statements.readMeta(runningKey));
        statements.writeMeta(runningKey, "1");
        writeConnection.setAutoCommit(false);
        metrics.gauge("diminuendo.writer.queue.depth", "Writes waiting for the writer", this::queueDepth);
        metrics.gauge("diminuendo.writer.queue.capacity", "Bound of the writer queue", () -> capacity);
        writerThread = new Thread(this::run, "diminuendo-writer");
        writerThread.setDaemon(false);
        writerThread.start();
    }

    void onCommitted(Consumer<List<StoredEvent>> listener) {
        this.committedListener = listener;
    }

    boolean previousRunUnclean() {
        return previousRunUnclean;
    }

    synchronized void drainAndStop() {
        if (stopped || writerThread == null) {
            return;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        queue.add(new Stop(done));
        hurry();
        try {
            done.get(30, TimeUnit.SECONDS);
            writerThread.join(5000);
        } catch (Exception e) {
            LOG.error("writer did not drain within 30s", e);
        }
        stopped = true;
    }

    boolean tryAppend(StoredEvent event) {
        if (!reserve()) {
            return false;
        }
        queue.add(new Append(event));
        writesQueued.incrementAndGet();
        return true;
    }

    void whenWritable(Runnable task) {
        waitingForRoom.add(task);
        hurry(); // room comes with a commit: a writer lingering over a full queue would wait for nothing
        if (reserved.get() < capacity) {
            wakeWaiters();
        }
    }

    CompletionStage<Void> insertSession(SessionRecord session) {
        return insertSession(session, Integer.MAX_VALUE);
    }

    /** Completes with {@link SessionStore.TenantFull} when the statements counted the tenant's limit reached. */
    CompletionStage<Void> insertSession(SessionRecord session, int maxPerTenant) {
        return submit(new InsertSession(session, maxPerTenant, new CompletableFuture<>()));
    }

    CompletionStage<Void> updateSession(SessionRecord session) {
        return submit(new UpdateSession(session, new CompletableFuture<>()));
    }

    CompletionStage<Void> deleteSession(String sessionId) {
        return submit(new DeleteSession(sessionId, new CompletableFuture<>()));
    }

    /**
     * Completes once every write queued before the call is committed or answered with a failure; it never fails
     * itself, and behind streamed events that failed to commit it waits until they are written again. A barrier is
     * never refused, so barriers do not pile up: when the queue's last op is a barrier not yet reached, that one is
     * shared (it completes after the same writes). There is thus at most one barrier per run of writes (and at
     * most one {@link #acknowledgement()} per write), so the queue stays within three times its capacity.
     */
    CompletionStage<Void> barrier() {
        synchronized (barrierLock) {
            CompletableFuture<Void> tail = tailBarrier;
            if (tail != null && !tail.isDone() && writesQueued.get() == tailBarrierAfter) {
                return tail;
            }
            CompletableFuture<Void> f = new CompletableFuture<>();
            reserved.incrementAndGet();
            queue.add(new Barrier(f, true));
            tailBarrier = f;
            tailBarrierAfter = writesQueued.get();
            hurry();
            return f;
        }
    }

    /**
     * A barrier that fails with the first batch that fails to commit (see {@link EventLog#acknowledgement()}). It is
     * not shared, and never refused: its caller queues one right after a write of its own, so there is at most one
     * per write.
     */
    CompletionStage<Void> acknowledgement() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        reserved.incrementAndGet();
        queue.add(new Barrier(f, false));
        hurry();
        return f;
    }

    private CompletionStage<Void> submit(Completing op) {
        if (stopped) {
            throw new EventStore.Overloaded();
        }
        if (!reserve()) {
            metrics.writerRejections.increment();
            throw new EventStore.Overloaded();
        }
        queue.add(op);
        writesQueued.incrementAndGet();
        hurry();
        return op.done;
    }

    /**
     * Ends a linger: the writer parks without listening to the queue while it lingers (so streamed events, which
     * nobody waits for, do not wake it one by one), and a write with a waiter wakes it here.
     */
    private void hurry() {
        if (lingerNanos > 0) {
            urgent = true;
            Thread t = writerThread;
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }

    private boolean reserve() {
        int n;
        do {
            n = reserved.get();
            if (n >= capacity) {
                return false;
            }
        } while (!reserved.compareAndSet(n, n + 1));
        return true;
    }

    /** How long a batch of streamed events alone waits for more, as configured or the store's default. */
    Duration linger() {
        return Duration.ofNanos(lingerNanos);
    }

    int queueDepth() {
        return reserved.get();
    }

    boolean writerAlive() {
        long started = batchStartedNanos;
        boolean stalled = started != 0 && System.nanoTime() - started > config.stallThreshold().toNanos();
        return !stopped && !stalled && writerThread != null && writerThread.isAlive();
    }

    boolean writerHealthy() {
        return !lastCommitFailed && writerAlive();
    }

    boolean probeWritable(long timeoutMillis) {
        try {
            submit(new Probe(new CompletableFuture<>())).toCompletableFuture().get(timeoutMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private void run() {
        int maxRows = config.maxBatchRows();
        long maxDelay = config.maxBatchDelay().toNanos();
        List<WriteOp> batch = new ArrayList<>(maxRows);
        boolean running = true;
        while (running) {
            try {
                if (retry.isEmpty()) {
                    batch.add(queue.take());
                } else {
                    batch.addAll(retry);
                    retry.clear();
                }
                long start = System.nanoTime();
                batchStartedNanos = start;
                boolean onlyStreamed = onlyAppends(batch);
                while (batch.size() < maxRows) {
                    long elapsed = System.nanoTime() - start;
                    if (elapsed >= maxDelay) {
                        break;
                    }
                    WriteOp next = queue.poll();
                    if (next == null) {
                        if (!onlyStreamed || elapsed >= lingerNanos || urgent || reserved.get() >= capacity) {
                            break;
                        }
                        LockSupport.parkNanos(this, lingerNanos - elapsed);
                        continue;
                    }
                    onlyStreamed &= next instanceof Append;
                    batch.add(next);
                }
                urgent = false;
                running = commit(batch, System.nanoTime()); // its latency meter leaves the linger out: disk time only
                if (!retry.isEmpty()) {
                    batchStartedNanos = 0;
                    Thread.sleep(Math.min(2000, 50L << Math.min(consecutiveFailures, 6)));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            } finally {
                batch.clear();
                batchStartedNanos = 0;
            }
        }
    }

    private static boolean onlyAppends(List<WriteOp> batch) {
        for (WriteOp op : batch) {
            if (!(op instanceof Append)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Applies and commits one batch; returns false once a {@link Stop} was processed. When the commit fails
     * (disk full, I/O error) the batch is rolled back: streamed events (already delivered to subscribers) stay
     * queued in {@link #retry} and are written again until they commit, so the stored stream never gets a gap, and
     * so do barriers, which keep their place behind them (a reader after a barrier must find every event before
     * it); every other write is answered with the failure and changes nothing.
     */
    private boolean commit(List<WriteOp> batch, long start) {
        Stop stop = null;
        int rows = 0;
        Throwable failure = null;
        try {
            for (WriteOp op : batch) {
                if (op instanceof Stop s) {
                    stop = s;
                } else {
                    rows += op.apply(statements);
                }
            }
            statements.flush();
            writeConnection.commit();
            statements.committed();
            if (lastCommitFailed) {
                LOG.infof("writer recovered after %d failed attempts", consecutiveFailures);
            }
            lastCommitFailed = false;
            consecutiveFailures = 0;
            lastFailure = null;
        } catch (SQLException | RuntimeException e) {
            failure = e;
            lastCommitFailed = true;
            consecutiveFailures++;
            metrics.writerFailures.increment();
            String reason = String.valueOf(e.getMessage());
            boolean newReason = !reason.equals(lastFailure);
            lastFailure = reason;
            if (consecutiveFailures == 1 || consecutiveFailures % 100 == 0 || newReason) {
                LOG.errorf("writer batch of %d writes failed (%s); requests get unavailable, streamed events are kept"
                        + " and retried (attempt %d)", batch.size(), e.getMessage(), consecutiveFailures);
            }
            reopenWriteConnection();
        }
        int events = 0;
        int released = 0;
        for (WriteOp op : batch) {
            if (failure != null && (op instanceof Append || op instanceof Barrier b && b.waitsForRetries
                    || op instanceof Stop)) {
                retry.add(op);
                continue;
            }
            if (op instanceof Append) {
                events++;
            }
            if (!(op instanceof Stop)) {
                op.complete(failure);
                released++;
            }
        }
        if (failure != null) {
            stop = null;
        }
        reserved.addAndGet(-released);
        if (failure == null) {
            metrics.eventsPersisted.increment(events);
            metrics.recordCommit(rows, System.nanoTime() - start);
            Consumer<List<StoredEvent>> listener = committedListener;
            if (listener != null && events > 0) {
                notifyCommitted(listener, batch, events);
            }
        }
        wakeWaiters();
        if (stop != null) {
            finish(stop);
            return false;
        }
        if (failure == null) {
            try {
                dialect.committed(writeConnection);
            } catch (SQLException | RuntimeException e) {
                LOG.warnf("the write connection failed after a commit (%s); it is reopened", e.getMessage());
                reopenWriteConnection();
            }
        }
        return true;
    }

    private static void notifyCommitted(Consumer<List<StoredEvent>> listener, List<WriteOp> batch, int events) {
        List<StoredEvent> committed = new ArrayList<>(events);
        for (WriteOp op : batch) {
            if (op instanceof Append a) {
                committed.add(a.event);
            }
        }
        try {
            listener.accept(committed);
        } catch (RuntimeException e) {
            LOG.error("the committed-events listener failed", e);
        }
    }

    /**
     * After a failed commit the engine may already have rolled the transaction back on its own (SQLITE_FULL does),
     * which leaves the driver's transaction state out of step; a fresh connection is the reliable reset.
     */
    private void reopenWriteConnection() {
        try {
            writeConnection.rollback();
        } catch (SQLException alreadyRolledBack) {
            LOG.debugf("rollback after a failed commit: %s", alreadyRolledBack.getMessage());
        }
        try {
            statements.close();
        } catch (SQLException e) {
            LOG.debugf("closing the failed write connection's statements: %s", e.getMessage());
        }
        try {
            writeConnection.close(); // even when its statements would not close: the pool holds only two
        } catch (SQLException e) {
            LOG.debugf("closing the failed write connection: %s", e.getMessage());
        }
        try {
            writeConnection = dialect.open();
            writeConnection.setAutoCommit(false);
            statements = dialect.prepare(writeConnection);
            lastReopenFailure = null;
        } catch (SQLException e) {
            String reason = String.valueOf(e.getMessage());
            if (!reason.equals(lastReopenFailure)) {
                LOG.warnf("reopening the write connection failed (will retry): %s", reason);
            }
            lastReopenFailure = reason;
        }
    }

    private void finish(Stop stop) {
        dialect.stopped();
        try {
            writeConnection.setAutoCommit(true);
            statements.writeMeta(runningKey, "0");
            statements.close();
            writeConnection.close();
            stop.done.complete(null);
        } catch (SQLException e) {
            stop.done.completeExceptionally(e);
        }
    }

    private void wakeWaiters() {
        Runnable r;
        while (reserved.get() < capacity && (r = waitingForRoom.poll()) != null) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.error("writable callback failed", e);
            }
        }
    }

    private abstract static class WriteOp {
        /** Applies this write; returns the rows it wrote. */
        abstract int apply(WriteStatements s) throws SQLException;

        void complete(Throwable failure) {
        }
    }

    private static final class Append extends WriteOp {
        private final StoredEvent event;

        Append(StoredEvent event) {
            this.event = event;
        }

        @Override
        int apply(WriteStatements s) throws SQLException {
            s.append(event);
            return 1;
        }
    }

    private abstract static class Completing extends WriteOp {
        final CompletableFuture<Void> done;

        Completing(CompletableFuture<Void> done) {
            this.done = done;
        }

        @Override
        void complete(Throwable failure) {
            if (failure == null) {
                done.complete(null);
            } else {
                done.completeExceptionally(new EventStore.StoreFailure(failure));
            }
        }
    }

    private static final class InsertSession extends Completing {
        private final SessionRecord session;
        private final int maxPerTenant;
        private boolean full;

        InsertSession(SessionRecord session, int maxPerTenant, CompletableFuture<Void> done) {
            super(done);
            this.session = session;
            this.maxPerTenant = maxPerTenant;
        }

        @Override
        int apply(WriteStatements s) throws SQLException {
            full = !s.insert(session, maxPerTenant);
            return full ? 0 : 1;
        }

        @Override
        void complete(Throwable failure) {
            if (failure == null && full) {
                done.completeExceptionally(new SessionStore.TenantFull(session.tenantId(), maxPerTenant));
            } else {
                super.complete(failure);
            }
        }
    }

    /** Completes with {@link SessionStore.Missing} when the row was gone (the session was deleted). */
    private static final class UpdateSession extends Completing {
        private final SessionRecord session;
        private boolean missing;

        UpdateSession(SessionRecord session, CompletableFuture<Void> done) {
            super(done);
            this.session = session;
        }

        @Override
        int apply(WriteStatements s) throws SQLException {
            missing = !s.update(session);
            return missing ? 0 : 1;
        }

        @Override
        void complete(Throwable failure) {
            if (failure == null && missing) {
                done.completeExceptionally(new SessionStore.Missing(session.id()));
            } else {
                super.complete(failure);
            }
        }
    }

    private static final class DeleteSession extends Completing {
        private final String sessionId;

        DeleteSession(String sessionId, CompletableFuture<Void> done) {
            super(done);
            this.sessionId = sessionId;
        }

        @Override
        int apply(WriteStatements s) throws SQLException {
            s.delete(sessionId);
            return 1;
        }
    }

    private static final class Probe extends Completing {
        Probe(CompletableFuture<Void> done) {
            super(done);
        }

        @Override
        int apply(WriteStatements s) throws SQLException {
            s.flush();
            s.writeMeta("last_probe", Long.toString(System.currentTimeMillis()));
            return 1;
        }
    }

    private static final class Barrier extends Completing {
        /** Kept with the streamed events of a failed batch (a reader's barrier), or failed with it (a reply's). */
        final boolean waitsForRetries;

        Barrier(CompletableFuture<Void> done, boolean waitsForRetries) {
            super(done);
            this.waitsForRetries = waitsForRetries;
        }

        @Override
        int apply(WriteStatements s) {
            return 0;
        }
    }

    private static final class Stop extends WriteOp {
        final CompletableFuture<Void> done;

        Stop(CompletableFuture<Void> done) {
            this.done = done;
        }

        @Override
        int apply(WriteStatements s) {
            return 0;
        }
    }
}

package io.diminuendo.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.jboss.logging.Logger;

import io.agroal.api.AgroalDataSource;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.EventKind;
import io.quarkus.agroal.DataSource;
import io.quarkus.runtime.StartupEvent;

/**
 * SQLite in WAL mode. Reads use the default Agroal pool; every write goes through one writer thread that owns
 * the {@code writer} datasource's only connection and commits in batches: a batch ends when the queue is
 * drained, when it holds {@code max-batch-rows} writes, or {@code max-batch-delay} after it began.
 * The queue is bounded by {@code queue-capacity}: a full queue refuses new writes instead of growing.
 */
@ApplicationScoped
public class SqliteEventStore implements EventStore {
    private static final Logger LOG = Logger.getLogger(SqliteEventStore.class);
    private static final String META_RUNNING = "running";
    private static final long WAL_SIZE_LIMIT_BYTES = 16L << 20;

    private final AgroalDataSource readPool;
    private final AgroalDataSource writerSource;
    private final GatewayConfig.Store config;
    private final GatewayMetrics metrics;
    private final LinkedBlockingQueue<WriteOp> queue = new LinkedBlockingQueue<>();
    private final AtomicInteger reserved = new AtomicInteger();
    private final ConcurrentLinkedQueue<Runnable> waitingForRoom = new ConcurrentLinkedQueue<>();
    private final int capacity;
    private volatile boolean previousRunUnclean;
    private volatile boolean lastCommitFailed;
    /** Writes of a failed batch that must be written again (only the writer thread touches it). */
    private final java.util.ArrayDeque<WriteOp> retry = new java.util.ArrayDeque<>();
    private int consecutiveFailures;
    private volatile long batchStartedNanos;
    private volatile boolean stopped;
    private Thread writerThread;
    /** Null when checkpoints are left to SQLite's autocheckpoint ({@code checkpoint-interval=0}). */
    private final Checkpointer checkpointer;
    private Connection writeConnection;
    private Statements statements;

    public SqliteEventStore(AgroalDataSource readPool, @DataSource("writer") AgroalDataSource writerSource,
            GatewayConfig config, GatewayMetrics metrics) {
        this.readPool = readPool;
        this.writerSource = writerSource;
        this.config = config.store();
        this.metrics = metrics;
        this.capacity = config.store().writer().queueCapacity();
        Duration checkpointInterval = config.store().writer().checkpointInterval();
        this.checkpointer = checkpointInterval.isZero() ? null
                : new Checkpointer(writerSource::getConnection, checkpointInterval);
    }

    void start(@Observes @Priority(10) StartupEvent event) throws SQLException, IOException {
        Path dir = Path.of(config.path()).toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        writeConnection = openWriteConnection();
        Migrations.apply(writeConnection);
        statements = new Statements(writeConnection);
        previousRunUnclean = "1".equals(statements.readMeta(META_RUNNING));
        statements.writeMeta(META_RUNNING, "1");
        writeConnection.setAutoCommit(false);
        metrics.gauge("diminuendo.writer.queue.depth", "Writes waiting for the writer", this::queueDepth);
        metrics.gauge("diminuendo.writer.queue.capacity", "Bound of the writer queue", () -> capacity);
        if (checkpointer != null) {
            checkpointer.start();
        }
        writerThread = new Thread(this::runWriter, "diminuendo-writer");
        writerThread.setDaemon(false);
        writerThread.start();
        LOG.infof("store ready at %s (schema v%d, previous run %s)", config.path(), Migrations.latest(),
                previousRunUnclean ? "did NOT stop cleanly" : "stopped cleanly");
    }

    @Override
    public synchronized void drainAndStop() {
        if (stopped || writerThread == null) {
            return;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        queue.add(new Stop(done));
        try {
            done.get(30, TimeUnit.SECONDS);
            writerThread.join(5000);
        } catch (Exception e) {
            LOG.error("writer did not drain within 30s", e);
        }
        stopped = true;
    }

    @Override
    public boolean tryAppend(StoredEvent event) {
        if (!reserve()) {
            return false;
        }
        queue.add(new Append(event));
        return true;
    }

    @Override
    public void whenWritable(Runnable task) {
        waitingForRoom.add(task);
        if (reserved.get() < capacity) {
            wakeWaiters();
        }
    }

    @Override
    public CompletionStage<Void> saveSession(SessionRecord session) {
        return submit(new SaveSession(session, new CompletableFuture<>()));
    }

    @Override
    public CompletionStage<Void> deleteSession(String sessionId) {
        return submit(new DeleteSession(sessionId, new CompletableFuture<>()));
    }

    @Override
    public CompletionStage<Void> barrier() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        reserved.incrementAndGet();
        queue.add(new Barrier(f));
        return f;
    }

    private CompletionStage<Void> submit(Completing op) {
        if (stopped) {
            throw new Overloaded();
        }
        if (!reserve()) {
            metrics.writerRejections.increment();
            throw new Overloaded();
        }
        queue.add(op);
        return op.done;
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

    @Override
    public int queueDepth() {
        return reserved.get();
    }

    @Override
    public boolean previousRunUnclean() {
        return previousRunUnclean;
    }

    @Override
    public boolean writerAlive() {
        long started = batchStartedNanos;
        boolean stalled = started != 0
                && System.nanoTime() - started > config.writer().stallThreshold().toNanos();
        return !stopped && !stalled && writerThread != null && writerThread.isAlive();
    }

    @Override
    public boolean writerHealthy() {
        return !lastCommitFailed && writerAlive();
    }

    @Override
    public boolean probeWritable(long timeoutMillis) {
        try {
            submit(new Probe(new CompletableFuture<>())).toCompletableFuture().get(timeoutMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private void runWriter() {
        int maxRows = config.writer().maxBatchRows();
        long maxDelay = config.writer().maxBatchDelay().toNanos();
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
                while (batch.size() < maxRows && System.nanoTime() - start < maxDelay) {
                    WriteOp next = queue.poll();
                    if (next == null) {
                        break;
                    }
                    batch.add(next);
                }
                running = commit(batch, start);
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

    /**
     * Applies and commits one batch; returns false once a {@link Stop} was processed. When the commit fails
     * (disk full, I/O error) the batch is rolled back: streamed events (already delivered to subscribers) stay
     * queued in {@link #retry} and are written again until they commit, so the stored stream never gets a gap;
     * every other write is answered with the failure and changes nothing.
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
            if (lastCommitFailed) {
                LOG.infof("writer recovered after %d failed attempts", consecutiveFailures);
            }
            lastCommitFailed = false;
            consecutiveFailures = 0;
            if (checkpointer != null) {
                checkpointer.committed();
            }
        } catch (SQLException | RuntimeException e) {
            failure = e;
            lastCommitFailed = true;
            consecutiveFailures++;
            metrics.writerFailures.increment();
            if (consecutiveFailures == 1 || consecutiveFailures % 100 == 0) {
                LOG.errorf("writer batch of %d writes failed (%s); requests get unavailable, streamed events are kept"
                        + " and retried (attempt %d)", batch.size(), e.getMessage(), consecutiveFailures);
            }
            reopenWriteConnection();
        }
        int events = 0;
        int released = 0;
        for (WriteOp op : batch) {
            if (failure != null && (op instanceof Append || op instanceof Stop)) {
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
        }
        wakeWaiters();
        if (stop != null) {
            finish(stop);
            return false;
        }
        if (checkpointer != null && checkpointer.writerShouldFinish()) {
            Checkpointer.finishOn(writeConnection);
        }
        return true;
    }

    /**
     * After a failed commit SQLite may already have rolled the transaction back on its own (SQLITE_FULL does),
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
            writeConnection.close();
        } catch (SQLException e) {
            LOG.debugf("closing the failed write connection: %s", e.getMessage());
        }
        try {
            writeConnection = openWriteConnection();
            writeConnection.setAutoCommit(false);
            statements = new Statements(writeConnection);
        } catch (SQLException e) {
            LOG.debugf("reopening the write connection failed (will retry): %s", e.getMessage());
        }
    }

    private Connection openWriteConnection() throws SQLException {
        Connection c = writerSource.getConnection();
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("PRAGMA synchronous=" + config.writer().synchronous().name());
            if (checkpointer != null) {
                s.execute("PRAGMA wal_autocheckpoint=0"); // the Checkpointer's job
                // a burst can outrun the checkpointer and grow the WAL; give the space back once it starts over
                s.execute("PRAGMA journal_size_limit=" + WAL_SIZE_LIMIT_BYTES);
            }
        }
        return c;
    }

    private void finish(Stop stop) {
        if (checkpointer != null) {
            checkpointer.stop();
        }
        try {
            writeConnection.setAutoCommit(true);
            statements.writeMeta(META_RUNNING, "0");
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

    @Override
    public List<StoredEvent> readEvents(String sessionId, long afterSeq, long maxSeq, int limit) {
        String sql = "SELECT seq, turn_id, kind, ts, frame FROM events WHERE session_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?";
        try (Connection c = readPool.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, sessionId);
            ps.setLong(2, afterSeq);
            ps.setLong(3, maxSeq);
            ps.setInt(4, limit);
            List<StoredEvent> out = new ArrayList<>(Math.min(limit, 256));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new StoredEvent(sessionId, rs.getLong(1), rs.getString(2), EventKind.fromWire(rs.getString(3)), rs.getLong(4),
                            rs.getString(5)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("reading events of session " + sessionId + " failed", e);
        }
    }

    @Override
    public List<LoadedSession> loadSessions() {
        String sql = """
                SELECT s.id, s.tenant_id, s.owner_id, s.title, s.status, s.metadata, s.agent, s.epoch, s.created_at,
                       s.updated_at, e.seq, e.kind, e.turn_id
                FROM sessions s
                LEFT JOIN events e ON e.session_id = s.id
                  AND e.seq = (SELECT MAX(seq) FROM events WHERE session_id = s.id)""";
        try (Connection c = readPool.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            List<LoadedSession> out = new ArrayList<>();
            while (rs.next()) {
                SessionRecord r = new SessionRecord(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getLong(9), rs.getLong(10));
                out.add(new LoadedSession(r, rs.getLong(11), EventKind.fromWire(rs.getString(12)), rs.getString(13)));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("loading sessions failed", e);
        }
    }

    /** Prepared statements of the write connection; used only by the writer thread. */
    static final class Statements implements AutoCloseable {
        private final Connection c;
        private final PreparedStatement insertEvent;
        private final PreparedStatement upsertSession;
        private final PreparedStatement deleteSession;
        private final PreparedStatement deleteEvents;
        private int pendingEvents;

        Statements(Connection c) throws SQLException {
            this.c = c;
            insertEvent = c.prepareStatement("INSERT INTO events (session_id, seq, turn_id, kind, ts, frame) VALUES (?, ?, ?, ?, ?, ?)");
            upsertSession = c.prepareStatement("""
                    INSERT OR REPLACE INTO sessions (id, tenant_id, owner_id, title, status, metadata, agent, epoch, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""");
            deleteSession = c.prepareStatement("DELETE FROM sessions WHERE id = ?");
            deleteEvents = c.prepareStatement("DELETE FROM events WHERE session_id = ?");
        }

        void append(StoredEvent e) throws SQLException {
            insertEvent.setString(1, e.sessionId());
            insertEvent.setLong(2, e.seq());
            insertEvent.setString(3, e.turnId());
            insertEvent.setString(4, e.kind().wire());
            insertEvent.setLong(5, e.ts());
            insertEvent.setString(6, e.frame());
            insertEvent.addBatch();
            pendingEvents++;
        }

        /** Executes queued event inserts; called before any other statement and before commit to keep order. */
        void flush() throws SQLException {
            if (pendingEvents > 0) {
                insertEvent.executeBatch();
                pendingEvents = 0;
            }
        }

        void save(SessionRecord s) throws SQLException {
            flush();
            upsertSession.setString(1, s.id());
            upsertSession.setString(2, s.tenantId());
            upsertSession.setString(3, s.ownerId());
            upsertSession.setString(4, s.title());
            upsertSession.setString(5, s.status());
            upsertSession.setString(6, s.metadataJson());
            upsertSession.setString(7, s.agent());
            upsertSession.setString(8, s.epoch());
            upsertSession.setLong(9, s.createdAt());
            upsertSession.setLong(10, s.updatedAt());
            upsertSession.executeUpdate();
        }

        void delete(String sessionId) throws SQLException {
            flush();
            deleteEvents.setString(1, sessionId);
            deleteEvents.executeUpdate();
            deleteSession.setString(1, sessionId);
            deleteSession.executeUpdate();
        }

        String readMeta(String key) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement("SELECT value FROM gateway_meta WHERE key = ?")) {
                ps.setString(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        }

        void writeMeta(String key, String value) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement("INSERT OR REPLACE INTO gateway_meta (key, value) VALUES (?, ?)")) {
                ps.setString(1, key);
                ps.setString(2, value);
                ps.executeUpdate();
            }
        }

        @Override
        public void close() throws SQLException {
            insertEvent.close();
            upsertSession.close();
            deleteSession.close();
            deleteEvents.close();
        }
    }

    private abstract static class WriteOp {
        /** Applies this write; returns the rows it wrote. */
        abstract int apply(Statements s) throws SQLException;

        void complete(Throwable failure) {
        }
    }

    private static final class Append extends WriteOp {
        private final StoredEvent event;

        Append(StoredEvent event) {
            this.event = event;
        }

        @Override
        int apply(Statements s) throws SQLException {
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
                done.completeExceptionally(new StoreFailure(failure));
            }
        }
    }

    private static final class SaveSession extends Completing {
        private final SessionRecord session;

        SaveSession(SessionRecord session, CompletableFuture<Void> done) {
            super(done);
            this.session = session;
        }

        @Override
        int apply(Statements s) throws SQLException {
            s.save(session);
            return 1;
        }
    }

    private static final class DeleteSession extends Completing {
        private final String sessionId;

        DeleteSession(String sessionId, CompletableFuture<Void> done) {
            super(done);
            this.sessionId = sessionId;
        }

        @Override
        int apply(Statements s) throws SQLException {
            s.delete(sessionId);
            return 1;
        }
    }

    private static final class Probe extends Completing {
        Probe(CompletableFuture<Void> done) {
            super(done);
        }

        @Override
        int apply(Statements s) throws SQLException {
            s.flush();
            s.writeMeta("last_probe", Long.toString(System.currentTimeMillis()));
            return 1;
        }
    }

    private static final class Barrier extends Completing {
        Barrier(CompletableFuture<Void> done) {
            super(done);
        }

        @Override
        int apply(Statements s) {
            return 0;
        }
    }

    private static final class Stop extends WriteOp {
        final CompletableFuture<Void> done;

        Stop(CompletableFuture<Void> done) {
            this.done = done;
        }

        @Override
        int apply(Statements s) {
            return 0;
        }
    }
}

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
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

import io.agroal.api.AgroalDataSource;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.EventKind;

/**
 * SQLite in WAL mode. Reads use the default Agroal pool; every write goes through the {@link BatchWriter}, whose
 * thread owns the {@code writer} datasource's only connection. WAL checkpoints run on a thread of their own
 * ({@link Checkpointer}) unless {@code checkpoint-interval} is 0.
 */
public final class SqliteEventStore implements EventStore {
    private static final Logger LOG = Logger.getLogger(SqliteEventStore.class);
    private static final long WAL_SIZE_LIMIT_BYTES = 16L << 20;

    private final AgroalDataSource readPool;
    private final AgroalDataSource writerSource;
    private final GatewayConfig.Store config;
    private final BatchWriter writer;
    /** Null when checkpoints are left to SQLite's autocheckpoint ({@code checkpoint-interval=0}). */
    private final Checkpointer checkpointer;

    SqliteEventStore(AgroalDataSource readPool, AgroalDataSource writerSource, GatewayConfig.Store config,
            GatewayMetrics metrics) {
        this.readPool = readPool;
        this.writerSource = writerSource;
        this.config = config;
        Duration checkpointInterval = config.writer().checkpointInterval();
        this.checkpointer = checkpointInterval.isZero() ? null
                : new Checkpointer(writerSource::getConnection, checkpointInterval);
        this.writer = new BatchWriter(new Dialect(), config.writer(), metrics, "running");
    }

    void start() throws SQLException, IOException {
        Path dir = Path.of(config.path()).toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        writer.start();
        if (checkpointer != null) {
            checkpointer.start();
        }
        LOG.infof("store ready at %s (schema v%d, previous run %s)", config.path(), Migrations.SQLITE.size(),
                writer.previousRunUnclean() ? "did NOT stop cleanly" : "stopped cleanly");
    }

    /** The write connection's settings and the checkpointer's hooks. */
    private final class Dialect implements WriterDialect {
        @Override
        public Connection open() throws SQLException {
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

        @Override
        public void migrate(Connection c) throws SQLException {
            Migrations.apply(c, Migrations.SQLITE);
        }

        @Override
        public WriteStatements prepare(Connection c) throws SQLException {
            return new SqliteStatements(c);
        }

        @Override
        public void committed(Connection c) {
            if (checkpointer != null) {
                checkpointer.committed();
                if (checkpointer.writerShouldFinish()) {
                    Checkpointer.finishOn(c);
                }
            }
        }

        @Override
        public void stopped() {
            if (checkpointer != null) {
                checkpointer.stop();
            }
        }
    }

    @Override
    public boolean tryAppend(StoredEvent event) {
        return writer.tryAppend(event);
    }

    @Override
    public void whenWritable(Runnable task) {
        writer.whenWritable(task);
    }

    @Override
    public CompletionStage<Void> barrier() {
        return writer.barrier();
    }

    @Override
    public void onCommitted(Consumer<List<StoredEvent>> listener) {
        writer.onCommitted(listener);
    }

    @Override
    public CompletionStage<Void> saveSession(SessionRecord session) {
        return writer.saveSession(session);
    }

    @Override
    public CompletionStage<Void> deleteSession(String sessionId) {
        return writer.deleteSession(sessionId);
    }

    @Override
    public boolean previousRunUnclean() {
        return writer.previousRunUnclean();
    }

    @Override
    public boolean writerAlive() {
        return writer.writerAlive();
    }

    @Override
    public boolean writerHealthy() {
        return writer.writerHealthy();
    }

    @Override
    public boolean probeWritable(long timeoutMillis) {
        return writer.probeWritable(timeoutMillis);
    }

    @Override
    public int queueDepth() {
        return writer.queueDepth();
    }

    @Override
    public void drainAndStop() {
        writer.drainAndStop();
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
        return load(null);
    }

    @Override
    public Optional<LoadedSession> loadSession(String sessionId) {
        return load(sessionId).stream().findFirst();
    }

    /** Every session, or the one with id {@code onlyId}, with its last stored event. */
    private List<LoadedSession> load(String onlyId) {
        String sql = """
                SELECT s.id, s.tenant_id, s.owner_id, s.title, s.status, s.metadata, s.agent, s.epoch, s.created_at,
                       s.updated_at, e.seq, e.kind, e.turn_id
                FROM sessions s
                LEFT JOIN events e ON e.session_id = s.id
                  AND e.seq = (SELECT MAX(seq) FROM events WHERE session_id = s.id)"""
                + (onlyId == null ? "" : " WHERE s.id = ?");
        try (Connection c = readPool.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            if (onlyId != null) {
                ps.setString(1, onlyId);
            }
            List<LoadedSession> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    SessionRecord r = new SessionRecord(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getLong(9), rs.getLong(10));
                    out.add(new LoadedSession(r, rs.getLong(11), EventKind.fromWire(rs.getString(12)), rs.getString(13)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("loading sessions failed", e);
        }
    }

    /** Prepared statements of the write connection; used only by the writer thread. */
    static final class SqliteStatements implements WriteStatements {
        private final Connection c;
        private final PreparedStatement insertEvent;
        private final PreparedStatement upsertSession;
        private final PreparedStatement deleteSession;
        private final PreparedStatement deleteEvents;
        private int pendingEvents;

        SqliteStatements(Connection c) throws SQLException {
            this.c = c;
            insertEvent = c.prepareStatement("INSERT INTO events (session_id, seq, turn_id, kind, ts, frame) VALUES (?, ?, ?, ?, ?, ?)");
            upsertSession = c.prepareStatement("""
                    INSERT OR REPLACE INTO sessions (id, tenant_id, owner_id, title, status, metadata, agent, epoch, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""");
            deleteSession = c.prepareStatement("DELETE FROM sessions WHERE id = ?");
            deleteEvents = c.prepareStatement("DELETE FROM events WHERE session_id = ?");
        }

        @Override
        public void append(StoredEvent e) throws SQLException {
            insertEvent.setString(1, e.sessionId());
            insertEvent.setLong(2, e.seq());
            insertEvent.setString(3, e.turnId());
            insertEvent.setString(4, e.kind().wire());
            insertEvent.setLong(5, e.ts());
            insertEvent.setString(6, e.frame());
            insertEvent.addBatch();
            pendingEvents++;
        }

        @Override
        public void flush() throws SQLException {
            if (pendingEvents > 0) {
                insertEvent.executeBatch();
                pendingEvents = 0;
            }
        }

        @Override
        public void save(SessionRecord s) throws SQLException {
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

        @Override
        public void delete(String sessionId) throws SQLException {
            flush();
            deleteEvents.setString(1, sessionId);
            deleteEvents.executeUpdate();
            deleteSession.setString(1, sessionId);
            deleteSession.executeUpdate();
        }

        @Override
        public String readMeta(String key) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement("SELECT value FROM gateway_meta WHERE key = ?")) {
                ps.setString(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        }

        @Override
        public void writeMeta(String key, String value) throws SQLException {
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
}

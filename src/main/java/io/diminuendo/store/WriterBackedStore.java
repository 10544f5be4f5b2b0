package io.diminuendo.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

import io.diminuendo.protocol.EventKind;

/**
 * What the SQL stores have in common: every write goes through their {@link BatchWriter}, and events and sessions
 * are read back from a pool of read connections with the same queries. An engine supplies its writer, its read
 * connections and how it finds a session's last event.
 */
abstract class WriterBackedStore implements EventStore {

    /** The engine's single writer. */
    abstract BatchWriter writer();

    /** A connection of the read pool; the caller closes it. */
    abstract Connection readConnection() throws SQLException;

    /**
     * The {@code FROM} clause that joins each row {@code s} of {@code sessions} with its last event {@code e}
     * (columns seq, kind, turn_id; null when it has none).
     */
    abstract String sessionsWithLastEvent();

    @Override
    public boolean tryAppend(StoredEvent event) {
        return writer().tryAppend(event);
    }

    @Override
    public void whenWritable(Runnable task) {
        writer().whenWritable(task);
    }

    @Override
    public CompletionStage<Void> barrier() {
        return writer().barrier();
    }

    @Override
    public CompletionStage<Void> acknowledgement() {
        return writer().acknowledgement();
    }

    @Override
    public void onCommitted(Consumer<List<StoredEvent>> listener) {
        writer().onCommitted(listener);
    }

    @Override
    public CompletionStage<Void> insertSession(SessionRecord session, int maxPerTenant) {
        return writer().insertSession(session, maxPerTenant);
    }

    @Override
    public CompletionStage<Void> updateSession(SessionRecord session) {
        return writer().updateSession(session);
    }

    @Override
    public CompletionStage<Void> deleteSession(String sessionId) {
        return writer().deleteSession(sessionId);
    }

    @Override
    public boolean previousRunUnclean() {
        return writer().previousRunUnclean();
    }

    @Override
    public boolean writerAlive() {
        return writer().writerAlive();
    }

    @Override
    public boolean writerHealthy() {
        return writer().writerHealthy();
    }

    @Override
    public boolean probeWritable(long timeoutMillis) {
        return writer().probeWritable(timeoutMillis);
    }

    @Override
    public int queueDepth() {
        return writer().queueDepth();
    }

    @Override
    public void drainAndStop() {
        writer().drainAndStop();
    }

    @Override
    public List<StoredEvent> readEvents(String sessionId, long afterSeq, long maxSeq, int limit) {
        String sql = "SELECT seq, turn_id, kind, ts, frame FROM events WHERE session_id = ? AND seq > ? AND seq <= ?"
                + " ORDER BY seq LIMIT ?";
        Connection pooled;
        try {
            pooled = readConnection();
        } catch (SQLException e) {
            throw new EventStore.ReadBusy(e);
        }
        try (Connection c = pooled; PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, sessionId);
            ps.setLong(2, afterSeq);
            ps.setLong(3, maxSeq);
            ps.setInt(4, limit);
            List<StoredEvent> out = new ArrayList<>(Math.min(limit, 256));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new StoredEvent(sessionId, rs.getLong(1), rs.getString(2), EventKind.fromWire(rs.getString(3)),
                            rs.getLong(4), rs.getString(5)));
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
        String sql = "SELECT s.id, s.tenant_id, s.owner_id, s.title, s.status, s.metadata, s.agent, s.epoch,"
                + " s.created_at, s.updated_at, e.seq, e.kind, e.turn_id FROM " + sessionsWithLastEvent()
                + (onlyId == null ? "" : " WHERE s.id = ?");
        try (Connection c = readConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
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
}

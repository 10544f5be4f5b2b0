package io.diminuendo.store;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import io.diminuendo.protocol.EventKind;

/**
 * Session leases as rows of {@code session_leases}, with the database's clock ({@code now()}) as the only clock, so
 * pods whose clocks differ still agree on when a lease expired.
 */
final class PostgresLeases implements Leases {
    private final Supplier<Connection> connections;
    private final String pod;

    PostgresLeases(Supplier<Connection> connections, String pod) {
        this.connections = connections;
        this.pod = pod;
    }

    /**
     * Takes the lease when nobody holds it, when it expired, when this pod holds it, or when the holder's turn has
     * ended in the store: the holder releases its lease only after the terminal event has committed, and a client
     * that saw that event on another pod may send the next message before the release lands.
     */
    private static final String ACQUIRE = """
            INSERT INTO session_leases (session_id, pod, turn_id, expires_at)
            VALUES (?, ?, ?, now() + make_interval(secs => ?))
            ON CONFLICT (session_id) DO UPDATE SET pod = EXCLUDED.pod, turn_id = EXCLUDED.turn_id,
              expires_at = EXCLUDED.expires_at
            WHERE session_leases.expires_at < now() OR session_leases.pod = EXCLUDED.pod
              OR EXISTS (SELECT 1 FROM (SELECT turn_id, kind FROM events WHERE session_id = session_leases.session_id
                                        ORDER BY seq DESC LIMIT 1) newest
                         WHERE newest.turn_id = session_leases.turn_id AND newest.kind IN (%s))
            RETURNING pod""".formatted(EventKind.TERMINAL.stream().map(k -> "'" + k.wire() + "'")
            .collect(Collectors.joining(", ")));

    @Override
    public Holder acquire(String sessionId, String turnId, Duration ttl) {
        try (Connection c = connections.get(); PreparedStatement ps = c.prepareStatement(ACQUIRE)) {
            ps.setString(1, sessionId);
            ps.setString(2, pod);
            ps.setString(3, turnId);
            ps.setDouble(4, ttl.toMillis() / 1000.0);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return null;
                }
            }
            try (PreparedStatement q = c.prepareStatement("SELECT pod, turn_id FROM session_leases WHERE session_id = ?")) {
                q.setString(1, sessionId);
                try (ResultSet rs = q.executeQuery()) {
                    return rs.next() ? new Holder(sessionId, rs.getString(1), rs.getString(2))
                            : new Holder(sessionId, "?", null);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("taking the lease of session " + sessionId + " failed", e);
        }
    }

    @Override
    public Set<String> renew(Collection<String> sessionIds, Duration ttl) {
        if (sessionIds.isEmpty()) {
            return Set.of();
        }
        String sql = "UPDATE session_leases SET expires_at = now() + make_interval(secs => ?)"
                + " WHERE pod = ? AND session_id = ANY (?) RETURNING session_id";
        try (Connection c = connections.get(); PreparedStatement ps = c.prepareStatement(sql)) {
            Array ids = c.createArrayOf("text", sessionIds.toArray());
            ps.setDouble(1, ttl.toMillis() / 1000.0);
            ps.setString(2, pod);
            ps.setArray(3, ids);
            Set<String> lost = new HashSet<>(sessionIds);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    lost.remove(rs.getString(1));
                }
            }
            return lost;
        } catch (SQLException e) {
            throw new IllegalStateException("renewing leases failed", e);
        }
    }

    @Override
    public void release(String sessionId, String turnId) {
        String sql = "DELETE FROM session_leases WHERE session_id = ? AND pod = ? AND turn_id = ?";
        try (Connection c = connections.get(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, sessionId);
            ps.setString(2, pod);
            ps.setString(3, turnId);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("releasing the lease of session " + sessionId + " failed", e);
        }
    }

    /** Gives back every lease of this pod (it stops). */
    void releaseAll() {
        try (Connection c = connections.get();
                PreparedStatement ps = c.prepareStatement("DELETE FROM session_leases WHERE pod = ?")) {
            ps.setString(1, pod);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("releasing the leases of pod " + pod + " failed", e);
        }
    }

    @Override
    public List<Holder> takeExpired() {
        return holders("DELETE FROM session_leases WHERE expires_at < now() RETURNING session_id, pod, turn_id",
                "taking expired leases failed");
    }

    @Override
    public List<Holder> held() {
        return holders("SELECT session_id, pod, turn_id FROM session_leases WHERE expires_at >= now()",
                "reading the leases failed");
    }

    /** Runs {@code sql}, which yields (session_id, pod, turn_id) rows, and returns them as holders. */
    private List<Holder> holders(String sql, String failure) {
        try (Connection c = connections.get(); PreparedStatement ps = c.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            List<Holder> out = new ArrayList<>();
            while (rs.next()) {
                out.add(new Holder(rs.getString(1), rs.getString(2), rs.getString(3)));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException(failure, e);
        }
    }

    @Override
    public long lastStoredSeq(String sessionId) {
        try (Connection c = connections.get();
                PreparedStatement ps = c.prepareStatement("SELECT COALESCE(MAX(seq), 0) FROM events WHERE session_id = ?")) {
            ps.setString(1, sessionId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("reading the last seq of session " + sessionId + " failed", e);
        }
    }
}

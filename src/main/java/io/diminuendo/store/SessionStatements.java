package io.diminuendo.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The writer's statements that are the same in every SQL engine: session rows (inserted once, then only updated
 * while they exist, so a write queued after a delete cannot bring the session back), their deletion with their
 * events, and the meta rows (upserted in the engine's syntax). An engine adds how it inserts events, and whether it
 * counts a tenant's sessions before inserting one ({@link #insert(SessionRecord, int)}).
 */
abstract class SessionStatements implements WriteStatements {
    final Connection c;
    private static final String COLUMNS = "tenant_id, owner_id, title, status, metadata, agent, epoch, created_at,"
            + " updated_at";
    private final PreparedStatement insertSession;
    private final PreparedStatement updateSession;
    private final PreparedStatement deleteSession;
    private final PreparedStatement deleteEvents;
    private final String writeMetaSql;

    /** {@code writeMetaSql} inserts or replaces a (key, value) meta row. */
    SessionStatements(Connection c, String writeMetaSql) throws SQLException {
        this.c = c;
        this.insertSession = c.prepareStatement("INSERT INTO " + insertColumns() + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        this.updateSession = c.prepareStatement("UPDATE sessions SET (" + COLUMNS + ")"
                + " = (?, ?, ?, ?, ?, ?, ?, ?, ?) WHERE id = ?");
        this.deleteSession = c.prepareStatement("DELETE FROM sessions WHERE id = ?");
        this.deleteEvents = c.prepareStatement("DELETE FROM events WHERE session_id = ?");
        this.writeMetaSql = writeMetaSql;
    }

    /** Inserts the row; the tenant's count is left to the registry (an engine that one process owns). */
    @Override
    public boolean insert(SessionRecord s, int maxPerTenant) throws SQLException {
        write(insertSession, s);
        return true;
    }

    /** The table and column list of a session insert ({@link #bind} order), for an engine that inserts in its own way. */
    static String insertColumns() {
        return "sessions (" + COLUMNS + ", id)";
    }

    /** Binds the record's columns, then its id, from parameter {@code first} on. */
    static void bind(PreparedStatement ps, SessionRecord s, int first) throws SQLException {
        ps.setString(first, s.tenantId());
        ps.setString(first + 1, s.ownerId());
        ps.setString(first + 2, s.title());
        ps.setString(first + 3, s.status());
        ps.setString(first + 4, s.metadataJson());
        ps.setString(first + 5, s.agent());
        ps.setString(first + 6, s.epoch());
        ps.setLong(first + 7, s.createdAt());
        ps.setLong(first + 8, s.updatedAt());
        ps.setString(first + 9, s.id());
    }

    @Override
    public boolean update(SessionRecord s) throws SQLException {
        return write(updateSession, s) > 0;
    }

    /** Runs {@code ps} with the record's columns in {@link #COLUMNS} order, then its id; returns the rows written. */
    private int write(PreparedStatement ps, SessionRecord s) throws SQLException {
        flush();
        bind(ps, s, 1);
        return ps.executeUpdate();
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
        try (PreparedStatement ps = c.prepareStatement(writeMetaSql)) {
            ps.setString(1, key);
            ps.setString(2, value);
            ps.executeUpdate();
        }
    }

    @Override
    public void close() throws SQLException {
        insertSession.close();
        updateSession.close();
        deleteSession.close();
        deleteEvents.close();
    }
}

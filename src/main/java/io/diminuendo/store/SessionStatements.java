package io.diminuendo.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The writer's statements that are the same in every SQL engine but for their upsert syntax: session rows, their
 * deletion with their events, and the meta rows. An engine adds how it inserts events.
 */
abstract class SessionStatements implements WriteStatements {
    final Connection c;
    private final PreparedStatement upsertSession;
    private final PreparedStatement deleteSession;
    private final PreparedStatement deleteEvents;
    private final String writeMetaSql;

    /**
     * {@code upsertSessionSql} inserts or replaces a session row from the ten columns in {@link #save} order;
     * {@code writeMetaSql} inserts or replaces a (key, value) meta row.
     */
    SessionStatements(Connection c, String upsertSessionSql, String writeMetaSql) throws SQLException {
        this.c = c;
        this.upsertSession = c.prepareStatement(upsertSessionSql);
        this.deleteSession = c.prepareStatement("DELETE FROM sessions WHERE id = ?");
        this.deleteEvents = c.prepareStatement("DELETE FROM events WHERE session_id = ?");
        this.writeMetaSql = writeMetaSql;
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
        try (PreparedStatement ps = c.prepareStatement(writeMetaSql)) {
            ps.setString(1, key);
            ps.setString(2, value);
            ps.executeUpdate();
        }
    }

    @Override
    public void close() throws SQLException {
        upsertSession.close();
        deleteSession.close();
        deleteEvents.close();
    }
}

package io.diminuendo.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import org.jboss.logging.Logger;

/**
 * Versioned schemas. Each entry is applied once, in order, inside one transaction, and recorded in
 * {@code schema_version}. Never edit one; add the next.
 */
final class Migrations {
    private static final Logger LOG = Logger.getLogger(Migrations.class);

    /** The embedded SQLite schema. */
    static final List<String[]> SQLITE = List.<String[]>of(
            new String[] {
                    """
                    CREATE TABLE sessions (
                      id TEXT PRIMARY KEY,
                      tenant_id TEXT NOT NULL,
                      owner_id TEXT NOT NULL,
                      title TEXT,
                      status TEXT NOT NULL,
                      metadata TEXT,
                      agent TEXT,
                      epoch TEXT NOT NULL,
                      created_at INTEGER NOT NULL,
                      updated_at INTEGER NOT NULL
                    )""",
                    "CREATE INDEX sessions_by_tenant ON sessions (tenant_id, created_at DESC, id DESC)",
                    """
                    CREATE TABLE events (
                      session_id TEXT NOT NULL,
                      seq INTEGER NOT NULL,
                      turn_id TEXT,
                      kind TEXT NOT NULL,
                      ts INTEGER NOT NULL,
                      frame TEXT NOT NULL,
                      PRIMARY KEY (session_id, seq)
                    ) WITHOUT ROWID""",
                    "CREATE TABLE gateway_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            });

    private Migrations() {
    }

    /**
     * The shared PostgreSQL schema. The primary key of {@code events} is what makes one event per (session, seq) a
     * rule of the database, whichever pod writes it.
     */
    static final List<String[]> POSTGRESQL = List.<String[]>of(
            new String[] {
                    """
                    CREATE TABLE sessions (
                      id TEXT PRIMARY KEY,
                      tenant_id TEXT NOT NULL,
                      owner_id TEXT NOT NULL,
                      title TEXT,
                      status TEXT NOT NULL,
                      metadata TEXT,
                      agent TEXT,
                      epoch TEXT NOT NULL,
                      created_at BIGINT NOT NULL,
                      updated_at BIGINT NOT NULL
                    )""",
                    "CREATE INDEX sessions_by_tenant ON sessions (tenant_id, created_at DESC, id DESC)",
                    """
                    CREATE TABLE events (
                      session_id TEXT NOT NULL,
                      seq BIGINT NOT NULL,
                      turn_id TEXT,
                      kind TEXT NOT NULL,
                      ts BIGINT NOT NULL,
                      frame TEXT NOT NULL,
                      PRIMARY KEY (session_id, seq)
                    )""",
                    "CREATE TABLE gateway_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            },
            new String[] {
                    """
                    CREATE TABLE session_leases (
                      session_id TEXT PRIMARY KEY,
                      pod TEXT NOT NULL,
                      turn_id TEXT,
                      expires_at TIMESTAMPTZ NOT NULL
                    )"""
            });

    static void apply(Connection c, List<String[]> versions) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
            int current = 0;
            try (ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
                if (rs.next()) {
                    current = rs.getInt(1);
                }
            }
            if (current > versions.size()) {
                throw new IllegalStateException("database schema version " + current
                        + " is newer than this gateway understands (" + versions.size() + ")");
            }
            for (int v = current + 1; v <= versions.size(); v++) {
                boolean auto = c.getAutoCommit();
                c.setAutoCommit(false);
                try {
                    for (String sql : versions.get(v - 1)) {
                        s.execute(sql);
                    }
                    s.execute("INSERT INTO schema_version (version, applied_at) VALUES (" + v + ", "
                            + System.currentTimeMillis() + ")");
                    c.commit();
                    LOG.infof("applied schema migration %d", v);
                } catch (SQLException | RuntimeException e) {
                    c.rollback();
                    throw e;
                } finally {
                    c.setAutoCommit(auto);
                }
            }
        }
    }
}

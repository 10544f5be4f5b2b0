package io.diminuendo.support;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * PostgreSQL databases for tests, one per gateway started, created and dropped here so runs never share state. The
 * server is {@code DIMINUENDO_TEST_PG_URL} (a JDBC URL of any database on it; default the local server's
 * {@code postgres} database) as {@code DIMINUENDO_TEST_PG_USER} (default {@code postgres}), password
 * {@code DIMINUENDO_TEST_PG_PASSWORD} if set.
 */
public final class TestDatabases {
    /** The test store selected for this run: {@code -Dgateway.test.store=postgresql}, else SQLite. */
    public static final boolean POSTGRESQL = "postgresql".equalsIgnoreCase(
            System.getProperty("gateway.test.store", System.getenv().getOrDefault("DIMINUENDO_TEST_STORE", "sqlite")));

    private static final String ADMIN_URL = env("DIMINUENDO_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/postgres");
    public static final String USER = env("DIMINUENDO_TEST_PG_USER", "postgres");
    public static final String PASSWORD = env("DIMINUENDO_TEST_PG_PASSWORD", "");

    private TestDatabases() {
    }

    /** For {@code @EnabledIf}: this run's store is PostgreSQL. */
    public static boolean isPostgresql() {
        return POSTGRESQL;
    }

    /** Creates an empty database and returns its name. */
    public static String create() {
        String name = "diminuendo_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16)
                .toLowerCase(Locale.ROOT);
        admin("CREATE DATABASE " + name);
        return name;
    }

    /** The JDBC URL of database {@code name} on the test server. */
    public static String url(String name) {
        int slash = ADMIN_URL.lastIndexOf('/');
        int query = ADMIN_URL.indexOf('?', slash);
        return ADMIN_URL.substring(0, slash + 1) + name + (query < 0 ? "" : ADMIN_URL.substring(query));
    }

    /** Drops database {@code name}, closing whatever still uses it. */
    public static void drop(String name) {
        admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }

    private static void admin(String sql) {
        try (Connection c = DriverManager.getConnection(ADMIN_URL, USER, PASSWORD); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL for tests at " + ADMIN_URL + " (user " + USER + "): " + sql
                    + " failed: " + e.getMessage() + " (start it, or point DIMINUENDO_TEST_PG_URL elsewhere)", e);
        }
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }
}

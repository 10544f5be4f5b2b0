package io.diminuendo.store;

import java.sql.Connection;
import java.sql.SQLException;

import io.diminuendo.metrics.GatewayMetrics;

/**
 * A writer dialect for tests that drive a {@link BatchWriter} on the store's real SQLite schema and statements; the test
 * says where its connections come from.
 */
abstract class SqliteSchemaDialect implements WriterDialect {
    private final GatewayMetrics metrics;

    SqliteSchemaDialect(GatewayMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void migrate(Connection c) throws SQLException {
        Migrations.apply(c, Migrations.SQLITE);
    }

    @Override
    public WriteStatements prepare(Connection c) throws SQLException {
        return new SqliteEventStore.SqliteStatements(c, metrics);
    }
}

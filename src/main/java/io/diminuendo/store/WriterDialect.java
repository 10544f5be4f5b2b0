package io.diminuendo.store;

import java.sql.Connection;
import java.sql.SQLException;

/** The engine-specific part of the {@link BatchWriter}: its connection and statements. Used by the writer thread. */
interface WriterDialect {
    /** A new write connection, configured for writing; the writer turns auto-commit off itself. */
    Connection open() throws SQLException;

    /** Applies the schema migrations (auto-commit on). */
    void migrate(Connection c) throws SQLException;

    WriteStatements prepare(Connection c) throws SQLException;

    /**
     * After each successful commit, on the writer thread. A failure leaves the connection in a state the writer cannot
     * trust (outside a transaction, say): the writer reopens it.
     */
    default void committed(Connection c) throws SQLException {
    }

    /** Once, when the writer stops for good. */
    default void stopped() {
    }
}

package io.diminuendo.store;

import java.sql.SQLException;

/**
 * One engine's statements on the write connection, used only by the writer thread inside its transaction. Appends
 * may be buffered until {@link #flush()}, which the writer calls before commit; every other write flushes first so
 * the order of writes is kept.
 */
interface WriteStatements extends AutoCloseable {
    void append(StoredEvent e) throws SQLException;

    /** Writes the buffered appends. */
    void flush() throws SQLException;

    /** The writer's transaction has committed; the next write starts a new one. */
    default void committed() {
    }

    /**
     * Inserts a session row; returns false, inserting nothing, when this engine counts sessions per tenant and the
     * tenant already has {@code maxPerTenant} ({@link Integer#MAX_VALUE}: no limit to check).
     */
    boolean insert(SessionRecord s, int maxPerTenant) throws SQLException;

    /** Updates a session row; returns false when there is none (it was deleted). */
    boolean update(SessionRecord s) throws SQLException;

    /** Deletes a session row and its events. */
    void delete(String sessionId) throws SQLException;

    String readMeta(String key) throws SQLException;

    void writeMeta(String key, String value) throws SQLException;

    @Override
    void close() throws SQLException;
}

package io.diminuendo.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Callable;

import org.jboss.logging.Logger;

/**
 * Copies the WAL back into the database file from a thread of its own, so the writer's commits do not pay for it.
 * <p>
 * With SQLite's automatic checkpoint, the commit that pushes the WAL past 1,000 pages copies them all into the
 * database (and syncs it) before the writer can take its next batch; profiles of the batched writer showed that as
 * its largest single cost. Here the writer connection has {@code wal_autocheckpoint=0}; every {@code interval}, if
 * the writer committed since the last round, this thread runs a passive checkpoint on a connection of its own,
 * which copies what was committed when it started without blocking the writer. The WAL can only start over once
 * every frame in it is copied, and under a steady stream the writer always adds some during the copy, so when the
 * WAL has grown past {@link #RESTART_PAGES} the writer is asked to run a passive checkpoint itself after its next
 * commit: by then only the frames of the last few milliseconds are left to copy, and SQLite reuses the WAL from the
 * start at the following commit.
 */
final class Checkpointer {
    private static final Logger LOG = Logger.getLogger(Checkpointer.class);
    /** SQLite's own autocheckpoint threshold: the WAL size at which it would have checkpointed. */
    static final int RESTART_PAGES = 1000;

    private final Callable<Connection> connections;
    private final long intervalMillis;
    private final Thread thread;
    private volatile long commits;
    private volatile boolean writerShouldFinish;
    private volatile boolean stopped;
    private Connection connection;

    Checkpointer(Callable<Connection> connections, Duration interval) {
        this.connections = connections;
        this.intervalMillis = Math.max(1, interval.toMillis());
        this.thread = new Thread(this::run, "diminuendo-checkpointer");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Called by the writer after each successful commit. */
    void committed() {
        commits++;
    }

    /** Called by the writer after a commit: true once, when it should finish a checkpoint (see the class comment). */
    boolean writerShouldFinish() {
        if (writerShouldFinish) {
            writerShouldFinish = false;
            return true;
        }
        return false;
    }

    /**
     * Runs the writer's share: a passive checkpoint on the write connection, outside a transaction. A checkpoint that
     * fails is only logged (the next one copies the same frames); a connection that cannot be put back into a
     * transaction fails, so that the writer reopens it rather than commit its next batch row by row.
     */
    static void finishOn(Connection writeConnection) throws SQLException {
        writeConnection.setAutoCommit(true); // a checkpoint cannot run inside a transaction
        try (Statement s = writeConnection.createStatement()) {
            s.execute("PRAGMA wal_checkpoint(PASSIVE)");
        } catch (SQLException e) {
            LOG.debugf("writer checkpoint failed: %s", e.getMessage());
        } finally {
            writeConnection.setAutoCommit(false);
        }
    }

    void stop() {
        stopped = true;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        long seen = 0;
        try {
            while (!stopped) {
                Thread.sleep(intervalMillis);
                long now = commits;
                if (now != seen) {
                    seen = now;
                    checkpoint();
                }
            }
        } catch (InterruptedException e) {
            // stopping
        } finally {
            closeConnection();
        }
    }

    private void checkpoint() {
        try {
            if (connection == null) {
                connection = connections.call();
            }
            try (Statement s = connection.createStatement();
                    ResultSet r = s.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
                // columns: busy, pages in the WAL, pages copied into the database
                if (r.next()) {
                    int walPages = r.getInt(2);
                    LOG.debugf("background checkpoint: %d pages in the WAL, %d copied", walPages, r.getInt(3));
                    if (walPages >= RESTART_PAGES) {
                        writerShouldFinish = true;
                    }
                }
            }
        } catch (Exception e) {
            // a full disk or an I/O error: the writer reports those; try again on a fresh connection next round
            LOG.debugf("background checkpoint failed: %s", e.getMessage());
            closeConnection();
        }
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                LOG.debugf("closing the checkpoint connection: %s", e.getMessage());
            }
            connection = null;
        }
    }
}

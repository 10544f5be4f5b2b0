package io.diminuendo.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import org.jboss.logging.Logger;

import io.agroal.api.AgroalDataSource;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;

/**
 * SQLite in WAL mode. Reads use the default Agroal pool; every write goes through the {@link BatchWriter}, whose
 * thread owns the {@code writer} datasource's only connection. WAL checkpoints run on a thread of their own
 * ({@link Checkpointer}) unless {@code checkpoint-interval} is 0.
 */
public final class SqliteEventStore extends WriterBackedStore {
    private static final Logger LOG = Logger.getLogger(SqliteEventStore.class);
    private static final long WAL_SIZE_LIMIT_BYTES = 16L << 20;

    private final AgroalDataSource readPool;
    private final AgroalDataSource writerSource;
    private final GatewayConfig.Store config;
    private final BatchWriter writer;
    /** Null when checkpoints are left to SQLite's autocheckpoint ({@code checkpoint-interval=0}). */
    private final Checkpointer checkpointer;

    SqliteEventStore(AgroalDataSource readPool, AgroalDataSource writerSource, GatewayConfig.Store config,
            GatewayMetrics metrics) {
        this.readPool = readPool;
        this.writerSource = writerSource;
        this.config = config;
        Duration checkpointInterval = config.writer().checkpointInterval();
        this.checkpointer = checkpointInterval.isZero() ? null
                : new Checkpointer(writerSource::getConnection, checkpointInterval);
        this.writer = new BatchWriter(new Dialect(), config.writer(), metrics, "running");
    }

    void start() throws SQLException, IOException {
        Path dir = Path.of(config.path()).toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        writer.start();
        if (checkpointer != null) {
            checkpointer.start();
        }
        LOG.infof("store ready at %s (schema v%d, previous run %s)", config.path(), Migrations.SQLITE.size(),
                writer.previousRunUnclean() ? "did NOT stop cleanly" : "stopped cleanly");
    }

    /** The write connection's settings and the checkpointer's hooks. */
    private final class Dialect implements WriterDialect {
        @Override
        public Connection open() throws SQLException {
            Connection c = writerSource.getConnection();
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=" + config.writer().synchronous().name());
                if (checkpointer != null) {
                    s.execute("PRAGMA wal_autocheckpoint=0"); // the Checkpointer's job
                    // a burst can outrun the checkpointer and grow the WAL; give the space back once it starts over
                    s.execute("PRAGMA journal_size_limit=" + WAL_SIZE_LIMIT_BYTES);
                }
            }
            return c;
        }

        @Override
        public void migrate(Connection c) throws SQLException {
            Migrations.apply(c, Migrations.SQLITE);
        }

        @Override
        public WriteStatements prepare(Connection c) throws SQLException {
            return new SqliteStatements(c);
        }

        @Override
        public void committed(Connection c) {
            if (checkpointer != null) {
                checkpointer.committed();
                if (checkpointer.writerShouldFinish()) {
                    Checkpointer.finishOn(c);
                }
            }
        }

        @Override
        public void stopped() {
            if (checkpointer != null) {
                checkpointer.stop();
            }
        }
    }

    @Override
    BatchWriter writer() {
        return writer;
    }

    @Override
    Connection readConnection() throws SQLException {
        return readPool.getConnection();
    }

    @Override
    String sessionsWithLastEvent() {
        return "sessions s LEFT JOIN events e ON e.session_id = s.id"
                + " AND e.seq = (SELECT MAX(seq) FROM events WHERE session_id = s.id)";
    }

    /** Prepared statements of the write connection; used only by the writer thread. */
    static final class SqliteStatements extends SessionStatements {
        private final PreparedStatement insertEvent;
        private int pendingEvents;

        SqliteStatements(Connection c) throws SQLException {
            super(c, "INSERT OR REPLACE INTO gateway_meta (key, value) VALUES (?, ?)");
            insertEvent = c.prepareStatement("INSERT INTO events (session_id, seq, turn_id, kind, ts, frame) VALUES (?, ?, ?, ?, ?, ?)");
        }

        @Override
        public void append(StoredEvent e) throws SQLException {
            insertEvent.setString(1, e.sessionId());
            insertEvent.setLong(2, e.seq());
            insertEvent.setString(3, e.turnId());
            insertEvent.setString(4, e.kind().wire());
            insertEvent.setLong(5, e.ts());
            insertEvent.setString(6, e.frame());
            insertEvent.addBatch();
            pendingEvents++;
        }

        @Override
        public void flush() throws SQLException {
            if (pendingEvents > 0) {
                insertEvent.executeBatch();
                pendingEvents = 0;
            }
        }

        @Override
        public void close() throws SQLException {
            insertEvent.close();
            super.close();
        }
    }
}

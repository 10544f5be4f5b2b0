package io.diminuendo.store;

import java.io.IOException;
import java.nio.file.FileStore;
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
    /**
     * With 100 sessions streaming, a commit each time the queue runs dry holds about two events per session and
     * rewrites a B-tree leaf for each: 20 ms cut the writer's CPU by a quarter (docs/benchmarks.md).
     */
    static final Duration DEFAULT_LINGER = Duration.ofMillis(20);

    private final AgroalDataSource readPool;
    private final AgroalDataSource writerSource;
    private final GatewayConfig.Store config;
    private final BatchWriter writer;
    /** Null when checkpoints are left to SQLite's autocheckpoint ({@code checkpoint-interval=0}). */
    private final Checkpointer checkpointer;
    private final GatewayMetrics metrics;
    private final LowSpace lowSpace;

    SqliteEventStore(AgroalDataSource readPool, AgroalDataSource writerSource, GatewayConfig.Store config,
            GatewayMetrics metrics) {
        this.readPool = readPool;
        this.writerSource = writerSource;
        this.config = config;
        this.metrics = metrics;
        this.lowSpace = new LowSpace(config.writer().lowSpaceBytes());
        Duration checkpointInterval = config.writer().checkpointInterval();
        this.checkpointer = checkpointInterval.isZero() ? null
                : new Checkpointer(writerSource::getConnection, checkpointInterval);
        this.writer = new BatchWriter(new Dialect(), config.writer(), DEFAULT_LINGER, metrics, "running");
    }

    void start() throws SQLException, IOException {
        Path dir = Path.of(config.path()).toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        try {
            lowSpace.watch(Files.getFileStore(dir != null ? dir : Path.of("").toAbsolutePath()));
        } catch (IOException e) {
            LOG.warnf("cannot tell the free space of the store's volume (%s): the low-space mode is off", e.getMessage());
        }
        metrics.gauge("diminuendo.store.free.bytes", "Free bytes on the SQLite store's volume", lowSpace::freeBytes);
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
                s.execute("PRAGMA cache_size=-" + config.writer().pageCacheBytes() / 1024); // negative: KiB
                if (checkpointer != null) {
                    s.execute("PRAGMA wal_autocheckpoint=0"); // the Checkpointer's job
                    // a burst can outrun the checkpointer and grow the WAL; give the space back once it starts over
                    s.execute("PRAGMA journal_size_limit=" + WAL_SIZE_LIMIT_BYTES);
                }
            } catch (SQLException | RuntimeException e) {
                try {
                    c.close(); // back to the pool: the writer's pool has room for this connection and the checkpointer's
                } catch (SQLException closing) {
                    e.addSuppressed(closing);
                }
                throw e;
            }
            return c;
        }

        @Override
        public void migrate(Connection c) throws SQLException {
            Migrations.apply(c, Migrations.SQLITE);
        }

        @Override
        public WriteStatements prepare(Connection c) throws SQLException {
            return new SqliteStatements(c, metrics);
        }

        @Override
        public void committed(Connection c) throws SQLException {
            boolean finish = lowSpace.isLow();
            if (checkpointer != null) {
                checkpointer.committed();
                finish |= checkpointer.writerShouldFinish();
            }
            if (finish) {
                Checkpointer.finishOn(c);
            }
        }

        @Override
        public void stopped() {
            if (checkpointer != null) {
                checkpointer.stop();
            }
        }
    }

    /**
     * Whether the store's volume has less than {@code low-space-bytes} free, checked by the writer after a commit at
     * most every {@link #CHECK_NANOS}. The WAL only starts over once a checkpoint has copied all of it, which a
     * stream of commits rarely lets happen by itself; the writer finishes one at 1,000 pages (4 MB), and the
     * background checkpoint runs every 100 ms, while a burst can add megabytes of WAL in between. On a volume with
     * less room than that, the WAL can take the last free bytes, and then the store is wedged until something else on
     * the volume is deleted: the checkpoint that would let the WAL start over needs room to grow the database file
     * (docs/operations.md, "Disk full or I/O errors"). So while space is low the
     * writer finishes a checkpoint after every commit, which keeps the WAL to the frames of about one commit (unless a
     * reader holds an older snapshot).
     */
    private static final class LowSpace {
        private static final long CHECK_NANOS = 50_000_000L;
        private final long threshold;
        private volatile FileStore volume;
        private long nextCheck;
        private boolean low;

        LowSpace(long threshold) {
            this.threshold = threshold;
            this.nextCheck = System.nanoTime();
        }

        void watch(FileStore volume) {
            this.volume = volume;
        }

        /** Free bytes on the volume, or -1 when it cannot be read. */
        long freeBytes() {
            FileStore v = volume;
            if (v == null) {
                return -1;
            }
            try {
                return v.getUsableSpace();
            } catch (IOException e) {
                return -1;
            }
        }

        /** On the writer thread. */
        boolean isLow() {
            if (threshold == 0) {
                return false;
            }
            long now = System.nanoTime();
            if (now - nextCheck < 0) {
                return low;
            }
            nextCheck = now + CHECK_NANOS;
            long free = freeBytes();
            // leaves the mode with an eighth more than it entered it with, so as not to flap around the threshold
            boolean nowLow = free >= 0 && free < (low ? threshold + threshold / 8 : threshold);
            if (nowLow != low) {
                if (nowLow) {
                    LOG.warnf("the store's volume has %d bytes free, below diminuendo.store.writer.low-space-bytes (%d):"
                            + " the writer checkpoints after every commit until there is more", free, threshold);
                } else {
                    LOG.infof("the store's volume has %d bytes free again: checkpoints are back to normal", free);
                }
                low = nowLow;
            }
            return low;
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

    /**
     * Prepared statements of the write connection; used only by the writer thread. An event whose (session, seq) is
     * already stored is skipped rather than failing its batch: on one node only a retry can cause that, of a batch
     * whose commit reached the disk although the driver reported it failed (it opens the next transaction as part of
     * the commit), and a plain insert would then fail every retry and wedge the writer. A skipped event is logged and
     * counted as on PostgreSQL ({@code diminuendo_store_seq_conflicts_total}). Only that key is let off: any other
     * constraint an event breaks still fails the batch ({@code INSERT OR IGNORE} would drop such a row silently).
     */
    static final class SqliteStatements extends SessionStatements {
        private final PreparedStatement insertEvent;
        private final GatewayMetrics metrics;
        private int pendingEvents;
        private String firstSession;
        private long firstSeq;

        SqliteStatements(Connection c, GatewayMetrics metrics) throws SQLException {
            super(c, "INSERT OR REPLACE INTO gateway_meta (key, value) VALUES (?, ?)");
            this.metrics = metrics;
            insertEvent = c.prepareStatement(
                    "INSERT INTO events (session_id, seq, turn_id, kind, ts, frame) VALUES (?, ?, ?, ?, ?, ?)"
                            + " ON CONFLICT (session_id, seq) DO NOTHING");
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
            if (pendingEvents++ == 0) {
                firstSession = e.sessionId();
                firstSeq = e.seq();
            }
        }

        @Override
        public void flush() throws SQLException {
            if (pendingEvents == 0) {
                return;
            }
            int n = pendingEvents;
            pendingEvents = 0;
            int refused = 0;
            for (int inserted : insertEvent.executeBatch()) {
                if (inserted == 0) {
                    refused++;
                }
            }
            if (refused > 0) {
                metrics.storeSeqConflicts.increment(refused);
                LOG.errorf("%d of %d events were already stored with their (session, seq) and were skipped; the stored"
                        + " events are kept (first in this batch: session %s seq %d)", refused, n, firstSession, firstSeq);
            }
        }

        @Override
        public void close() throws SQLException {
            insertEvent.close();
            super.close();
        }
    }
}

package io.diminuendo.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.jboss.logging.Logger;
import org.postgresql.Driver;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;

import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.supplier.AgroalDataSourceConfigurationSupplier;
import io.agroal.api.security.NamePrincipal;
import io.agroal.api.security.SimplePassword;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;

/**
 * PostgreSQL, shared by every pod of a cluster. Reads use an Agroal pool; writes go through this pod's
 * {@link BatchWriter} on a connection of its own, one transaction per batch, the batch's events copied in with
 * {@code COPY} and moved into {@code events} by one {@code INSERT … SELECT}. The primary key (session_id, seq) makes the database refuse a
 * second event with a seq that is taken; such an event fails alone (logged, counted in
 * {@code diminuendo_store_seq_conflicts_total}) and the rest of the batch commits, so the writer never wedges on it.
 */
public final class PostgresEventStore extends WriterBackedStore {
    private static final Logger LOG = Logger.getLogger(PostgresEventStore.class);
    /** Serialises schema migrations of pods that start at the same time. */
    private static final long MIGRATION_LOCK = 0x6469_6d69_6e75L;

    private final GatewayConfig.Store config;
    private final GatewayMetrics metrics;
    private final String podName;
    private final boolean fenced;
    private final BatchWriter writer;
    private AgroalDataSource readPool;
    private AgroalDataSource writerPool;
    private final PostgresLeases leases;

    /**
     * {@code fenced}: pods share sessions through a bus, so a session's events are written only while this pod holds
     * its lease; a pod that stalled past its lease's expiry cannot add to a stream another pod has taken over.
     */
    PostgresEventStore(GatewayConfig.Store config, GatewayMetrics metrics, String podName, boolean fenced) {
        this.fenced = fenced;
        this.config = config;
        this.metrics = metrics;
        this.podName = podName;
        this.writer = new BatchWriter(new Dialect(), config.writer(), metrics, "running:" + podName);
        this.leases = new PostgresLeases(this::leaseConnection, podName);
    }

    /** The leases of this store's sessions (used when pods share it through a bus). */
    Leases leases() {
        return leases;
    }

    private Connection leaseConnection() {
        try {
            return readConnection();
        } catch (SQLException e) {
            throw new IllegalStateException("no connection from the read pool", e);
        }
    }

    void start() throws SQLException {
        readPool = pool(config.readPoolSize());
        writerPool = pool(1);
        writer.start();
        LOG.infof("store ready on PostgreSQL %s as pod %s (schema v%d, this pod's previous run %s)",
                config.jdbcUrl().orElseThrow(), podName, Migrations.POSTGRESQL.size(),
                writer.previousRunUnclean() ? "did NOT stop cleanly" : "stopped cleanly");
    }

    private AgroalDataSource pool(int size) throws SQLException {
        AgroalDataSourceConfigurationSupplier supplier = new AgroalDataSourceConfigurationSupplier()
                .connectionPoolConfiguration(pool -> pool.minSize(0).maxSize(size)
                        .acquisitionTimeout(Duration.ofSeconds(5))
                        .connectionFactoryConfiguration(factory -> {
                            factory.jdbcUrl(config.jdbcUrl().orElseThrow()).connectionProviderClass(Driver.class);
                            config.username().ifPresent(u -> factory.principal(new NamePrincipal(u)));
                            config.password().ifPresent(p -> factory.credential(new SimplePassword(p)));
                            return factory;
                        }));
        return AgroalDataSource.from(supplier);
    }

    private final class Dialect implements WriterDialect {
        @Override
        public Connection open() throws SQLException {
            return writerPool.getConnection();
        }

        @Override
        public void migrate(Connection c) throws SQLException {
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_advisory_lock(" + MIGRATION_LOCK + ")");
                try {
                    Migrations.apply(c, Migrations.POSTGRESQL);
                } finally {
                    s.execute("SELECT pg_advisory_unlock(" + MIGRATION_LOCK + ")");
                }
            }
        }

        @Override
        public WriteStatements prepare(Connection c) throws SQLException {
            return new PostgresStatements(c, metrics, fenced ? podName : null);
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
        return "sessions s LEFT JOIN LATERAL (SELECT seq, kind, turn_id FROM events WHERE session_id = s.id"
                + " ORDER BY seq DESC LIMIT 1) e ON true";
    }

    @Override
    public void drainAndStop() {
        super.drainAndStop();
        if (fenced && readPool != null) {
            // every turn of this pod ended and its events are committed: it holds no session any more
            try {
                leases.releaseAll();
            } catch (RuntimeException e) {
                LOG.warnf("releasing this pod's leases failed (they expire on their own): %s", e.getMessage());
            }
        }
        if (readPool != null) {
            readPool.close();
        }
        if (writerPool != null) {
            writerPool.close();
        }
    }

    /**
     * The write connection's statements. Events are buffered and, in {@link #flush()}, streamed with {@code COPY} into
     * a temporary table of this connection, then moved into {@code events} by one
     * {@code INSERT … SELECT} that skips taken (session, seq) pairs and, fenced, sessions whose lease this pod does
     * not hold. {@code COPY} is PostgreSQL's cheapest way in for rows (no parameter arrays to build on this side or
     * to parse on the server's); {@code COPY} alone cannot skip a conflicting row, hence the staging table.
     */
    static final class PostgresStatements extends SessionStatements {
        private static final String CREATE_BATCH = """
                CREATE TEMP TABLE IF NOT EXISTS events_batch
                  (session_id text, seq bigint, turn_id text, kind text, ts bigint, frame text)
                  ON COMMIT DELETE ROWS""";
        private static final String COPY_BATCH = "COPY events_batch (session_id, seq, turn_id, kind, ts, frame) FROM STDIN";
        /** Empties the staging table as it moves its rows, so a second flush in one transaction starts empty. */
        private static final String INSERT_EVENTS = """
                WITH b AS (DELETE FROM events_batch RETURNING *)
                INSERT INTO events (session_id, seq, turn_id, kind, ts, frame)
                SELECT session_id, seq, turn_id, kind, ts, frame FROM b
                ON CONFLICT (session_id, seq) DO NOTHING""";
        /** The same, fenced: only events of sessions whose lease this pod holds are written. */
        private static final String INSERT_LEASED_EVENTS = """
                WITH b AS (DELETE FROM events_batch RETURNING *)
                INSERT INTO events (session_id, seq, turn_id, kind, ts, frame)
                SELECT b.session_id, b.seq, b.turn_id, b.kind, b.ts, b.frame FROM b
                WHERE EXISTS (SELECT 1 FROM session_leases l WHERE l.session_id = b.session_id AND l.pod = ?)
                ON CONFLICT (session_id, seq) DO NOTHING""";
        private final GatewayMetrics metrics;
        private final CopyManager copy;
        private final CopyText rows = new CopyText();
        private final PreparedStatement insertEvents;
        private final PreparedStatement deleteLease;
        private final List<StoredEvent> pending = new ArrayList<>();

        /** With a {@code fencePod}, events are only written for sessions whose lease that pod holds. */
        PostgresStatements(Connection c, GatewayMetrics metrics, String fencePod) throws SQLException {
            super(c, "INSERT INTO gateway_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value");
            this.metrics = metrics;
            this.copy = c.unwrap(PGConnection.class).getCopyAPI();
            try (Statement s = c.createStatement()) {
                s.execute(CREATE_BATCH);
            }
            if (!c.getAutoCommit()) {
                // nothing else is pending here; committed now, a later rollback cannot take the table away
                c.commit();
            }
            deleteLease = c.prepareStatement("DELETE FROM session_leases WHERE session_id = ?");
            insertEvents = c.prepareStatement(fencePod == null ? INSERT_EVENTS : INSERT_LEASED_EVENTS);
            if (fencePod != null) {
                insertEvents.setString(1, fencePod);
            }
        }

        @Override
        public void append(StoredEvent e) {
            pending.add(e);
        }

        @Override
        public void flush() throws SQLException {
            int n = pending.size();
            if (n == 0) {
                return;
            }
            rows.reset();
            for (int i = 0; i < n; i++) {
                StoredEvent e = pending.get(i);
                rows.text(e.sessionId()).tab().number(e.seq()).tab().text(e.turnId()).tab().text(e.kind().wire())
                        .tab().number(e.ts()).tab().text(e.frame()).endRow();
            }
            CopyIn in = copy.copyIn(COPY_BATCH);
            try {
                in.writeToCopy(rows.bytes(), 0, rows.length());
                in.endCopy();
            } finally {
                if (in.isActive()) {
                    in.cancelCopy();
                }
            }
            int inserted = insertEvents.executeUpdate();
            if (inserted < n) {
                metrics.storeSeqConflicts.increment(n - inserted);
                LOG.errorf("%d of %d events were refused by the store: their (session, seq) is taken, or this pod no"
                        + " longer holds the session's lease (another pod took it over); the stored events are kept"
                        + " (first in this batch: session %s seq %d)", n - inserted, n, pending.get(0).sessionId(),
                        pending.get(0).seq());
            }
            pending.clear();
        }

        /**
         * Also drops the session's lease: a pod still running a turn of it then has its events refused by the fenced
         * insert (and loses the lease at its next renewal), so none is stored after the delete.
         */
        @Override
        public void delete(String sessionId) throws SQLException {
            super.delete(sessionId);
            deleteLease.setString(1, sessionId);
            deleteLease.executeUpdate();
        }

        @Override
        public void close() throws SQLException {
            deleteLease.close();
            insertEvents.close();
            super.close();
        }
    }
}

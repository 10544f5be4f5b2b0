package io.diminuendo.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Savepoint;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

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
 * {@code COPY}. The primary key (session_id, seq) makes the database refuse a
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
     * The write connection's statements. Events are buffered and, in {@link #flush()}, streamed into {@code events}
     * with {@code COPY} (PostgreSQL's cheapest way in for rows: no parameter arrays to build here or to parse on the
     * server, rows inserted in bulk), after a savepoint. {@code COPY} cannot skip a row: when a (session, seq) is
     * already taken the copy fails as a whole, is rolled back to the savepoint, and that batch goes in again with an
     * {@code INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING}, which keeps every other event (as do the flushes
     * of a transaction past {@link #MAX_COPIES_PER_TRANSACTION}). Fenced, the batch is first narrowed to the sessions
     * whose lease this pod holds.
     */
    static final class PostgresStatements extends SessionStatements {
        private static final String COPY_EVENTS = "COPY events (session_id, seq, turn_id, kind, ts, frame) FROM STDIN";
        private static final String INSERT_SKIPPING_TAKEN = """
                INSERT INTO events (session_id, seq, turn_id, kind, ts, frame)
                SELECT * FROM unnest(?::text[], ?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::text[])
                ON CONFLICT (session_id, seq) DO NOTHING""";
        /** Locks the rows it reads: a takeover by another pod waits until this batch has committed. */
        private static final String HELD_LEASES = "SELECT session_id FROM session_leases WHERE pod = ? AND session_id = ANY(?)"
                + " FOR SHARE";
        private static final String UNIQUE_VIOLATION = "23505";
        /**
         * Serialises the session inserts of one tenant across pods until the transaction ends, so that the count
         * that follows sees every session another pod inserted before (a new snapshot per statement). The first key
         * keeps these locks apart from any other advisory lock.
         */
        private static final String LOCK_TENANT = "SELECT pg_advisory_xact_lock(1145654601, hashtext(?))";
        private static final String INSERT_IF_ROOM = "INSERT INTO " + insertColumns()
                + " SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE (SELECT count(*) FROM sessions WHERE tenant_id = ?) < ?";
        /**
         * Each copy runs under a savepoint, a subtransaction. PostgreSQL keeps up to 64 of a transaction's
         * subtransactions in shared memory; past that, every snapshot taken in the database gets slower until the
         * transaction ends. A batch flushes once per session write between its events, so after this many copies in
         * one transaction the rest of its events go in with the insert, which needs no savepoint.
         */
        static final int MAX_COPIES_PER_TRANSACTION = 32;
        private final GatewayMetrics metrics;
        private final String fencePod;
        private final CopyManager copy;
        private final CopyText rows = new CopyText();
        private final PreparedStatement insertSkippingTaken;
        private final PreparedStatement heldLeases;
        private final PreparedStatement deleteLease;
        private final PreparedStatement lockTenant;
        private final PreparedStatement insertIfRoom;
        private final List<StoredEvent> pending = new ArrayList<>();
        private int copiesInTransaction;

        /** With a {@code fencePod}, events are only written for sessions whose lease that pod holds. */
        PostgresStatements(Connection c, GatewayMetrics metrics, String fencePod) throws SQLException {
            super(c, "INSERT INTO gateway_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value");
            this.metrics = metrics;
            this.fencePod = fencePod;
            this.copy = c.unwrap(PGConnection.class).getCopyAPI();
            deleteLease = c.prepareStatement("DELETE FROM session_leases WHERE session_id = ?");
            insertSkippingTaken = c.prepareStatement(INSERT_SKIPPING_TAKEN);
            heldLeases = c.prepareStatement(HELD_LEASES);
            lockTenant = c.prepareStatement(LOCK_TENANT);
            insertIfRoom = c.prepareStatement(INSERT_IF_ROOM);
        }

        /**
         * Sessions per tenant are counted here, in the database every pod writes to: under the tenant's lock, the row
         * goes in only while the tenant has fewer than {@code maxPerTenant}. Two pods' batches that each create
         * sessions of two tenants in opposite order can deadlock; PostgreSQL then fails one of them, whose requests
         * are answered {@code unavailable} (retry) as after any failed commit.
         */
        @Override
        public boolean insert(SessionRecord s, int maxPerTenant) throws SQLException {
            if (maxPerTenant == Integer.MAX_VALUE) {
                return super.insert(s, maxPerTenant);
            }
            flush();
            lockTenant.setString(1, s.tenantId());
            lockTenant.execute();
            bind(insertIfRoom, s, 1);
            insertIfRoom.setString(11, s.tenantId());
            insertIfRoom.setLong(12, maxPerTenant);
            return insertIfRoom.executeUpdate() == 1;
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
            List<StoredEvent> batch = fencePod == null ? pending : held(pending);
            int refused = n - batch.size();
            if (batch.isEmpty()) {
                // nothing to write
            } else if (copiesInTransaction < MAX_COPIES_PER_TRANSACTION) {
                copiesInTransaction++;
                Savepoint beforeCopy = c.setSavepoint();
                try {
                    copy(batch);
                } catch (SQLException e) {
                    if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
                        throw e;
                    }
                    c.rollback(beforeCopy);
                    refused += batch.size() - insertSkippingTaken(batch);
                }
            } else {
                refused += batch.size() - insertSkippingTaken(batch);
            }
            if (refused > 0) {
                metrics.storeSeqConflicts.increment(refused);
                LOG.errorf("%d of %d events were refused by the store: their (session, seq) is taken, or this pod no"
                        + " longer holds the session's lease (another pod took it over); the stored events are kept"
                        + " (first in this batch: session %s seq %d)", refused, n, pending.get(0).sessionId(),
                        pending.get(0).seq());
            }
            pending.clear();
        }

        @Override
        public void committed() {
            copiesInTransaction = 0;
        }

        /** The events of {@code events} whose session's lease this pod holds. */
        private List<StoredEvent> held(List<StoredEvent> events) throws SQLException {
            Set<String> sessions = new HashSet<>();
            events.forEach(e -> sessions.add(e.sessionId()));
            Set<String> held = new HashSet<>();
            heldLeases.setString(1, fencePod);
            heldLeases.setArray(2, c.createArrayOf("text", sessions.toArray()));
            try (ResultSet rs = heldLeases.executeQuery()) {
                while (rs.next()) {
                    held.add(rs.getString(1));
                }
            }
            if (held.size() == sessions.size()) {
                return events;
            }
            List<StoredEvent> out = new ArrayList<>(events.size());
            for (StoredEvent e : events) {
                if (held.contains(e.sessionId())) {
                    out.add(e);
                }
            }
            return out;
        }

        private void copy(List<StoredEvent> events) throws SQLException {
            rows.reset();
            for (StoredEvent e : events) {
                rows.text(e.sessionId()).tab().number(e.seq()).tab().text(e.turnId()).tab().text(e.kind().wire())
                        .tab().number(e.ts()).tab().text(e.frame()).endRow();
            }
            CopyIn in = copy.copyIn(COPY_EVENTS);
            try {
                in.writeToCopy(rows.bytes(), 0, rows.length());
                in.endCopy();
            } finally {
                if (in.isActive()) {
                    in.cancelCopy();
                }
            }
        }

        /** Inserts {@code events}, skipping those whose (session, seq) is taken; returns how many went in. */
        private int insertSkippingTaken(List<StoredEvent> events) throws SQLException {
            int n = events.size();
            String[] sessions = new String[n];
            Long[] seqs = new Long[n];
            String[] turns = new String[n];
            String[] kinds = new String[n];
            Long[] times = new Long[n];
            String[] frames = new String[n];
            for (int i = 0; i < n; i++) {
                StoredEvent e = events.get(i);
                sessions[i] = e.sessionId();
                seqs[i] = e.seq();
                turns[i] = e.turnId();
                kinds[i] = e.kind().wire();
                times[i] = e.ts();
                frames[i] = e.frame();
            }
            insertSkippingTaken.setArray(1, c.createArrayOf("text", sessions));
            insertSkippingTaken.setArray(2, c.createArrayOf("bigint", seqs));
            insertSkippingTaken.setArray(3, c.createArrayOf("text", turns));
            insertSkippingTaken.setArray(4, c.createArrayOf("text", kinds));
            insertSkippingTaken.setArray(5, c.createArrayOf("bigint", times));
            insertSkippingTaken.setArray(6, c.createArrayOf("text", frames));
            return insertSkippingTaken.executeUpdate();
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
            lockTenant.close();
            insertIfRoom.close();
            insertSkippingTaken.close();
            heldLeases.close();
            super.close();
        }
    }
}

package io.diminuendo.session;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.jboss.logging.Logger;

import io.diminuendo.auth.Identity;
import io.diminuendo.cluster.Broker;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.hub.Hub;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.EventKind;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.protocol.ServerFrames;
import io.diminuendo.store.EventLog;
import io.diminuendo.store.EventStore;
import io.diminuendo.store.Leases;
import io.diminuendo.store.SessionRecord;
import io.diminuendo.store.SessionStore;
import io.diminuendo.upstream.Backends;
import io.diminuendo.upstream.EventMapper;
import io.quarkus.runtime.StartupEvent;

/**
 * All sessions, held in memory (loaded from the store at start-up) and indexed per tenant, newest first.
 * Creates, updates, archives and deletes are committed to the store before their futures complete; then the
 * tenant hears about them through a {@code tenant_event}. Every lookup is tenant-scoped: another tenant's
 * session is reported as not found.
 */
@ApplicationScoped
public class SessionRegistry {
    private static final Logger LOG = Logger.getLogger(SessionRegistry.class);

    private static final String DELETED = "session_deleted";
    private final SessionStore store;
    private final Broker broker;
    private final Leases leases;
    private final EventLog log;
    private final Hub hub;
    private final GatewayMetrics metrics;
    private final Backends backends;
    private final Map<String, SessionState> byId = new ConcurrentHashMap<>();
    private final Map<String, ConcurrentSkipListMap<Key, SessionState>> byTenant = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> tenantCounts = new ConcurrentHashMap<>();
    /** Sessions being created with an id the caller chose ({@link #openOrCreate}), until they are indexed. */
    private final Map<String, CompletableFuture<SessionState>> creating = new ConcurrentHashMap<>();
    private final int maxPerTenant;

    /** Orders a tenant's sessions newest first, then by id descending. */
    record Key(long createdAt, String id) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            int c = Long.compare(o.createdAt, createdAt);
            return c != 0 ? c : o.id.compareTo(id);
        }
    }

    public SessionRegistry(SessionStore store, EventLog log, Hub hub, GatewayMetrics metrics, Backends backends,
            GatewayConfig config, Broker broker, Leases leases) {
        this.broker = broker;
        this.leases = leases;
        this.maxPerTenant = config.limits().maxSessionsPerTenant();
        this.store = store;
        this.log = log;
        this.hub = hub;
        this.metrics = metrics;
        this.backends = backends;
    }

    /** Loads every session; after an unclean stop, gives each a new epoch and ends turns left running. */
    void load(@Observes @Priority(20) StartupEvent event) {
        // in a cluster, turns left running by a pod that died are ended by whichever pod takes its expired lease
        // (ClusterSync), and only those sessions get a new epoch: a pod's own restart says nothing about the rest
        boolean cluster = broker.clustered();
        boolean unclean = store.previousRunUnclean() && !cluster;
        Map<String, Leases.Holder> running = new HashMap<>();
        if (cluster) {
            leases.held().forEach(h -> running.put(h.sessionId(), h));
        }
        int recovered = 0;
        for (SessionStore.LoadedSession loaded : store.loadSessions()) {
            SessionRecord record = loaded.session();
            if (unclean) {
                SessionRecord renewed = record.withEpoch(newEpoch());
                whenStoreHasRoom(() -> {
                    store.updateSession(renewed);
                    return true;
                });
                record = renewed;
            }
            SessionState state = index(record, loaded.lastSeq());
            if (cluster) {
                Leases.Holder owner = running.get(record.id());
                if (owner != null) {
                    synchronized (state.lock()) {
                        state.remoteTurn(new SessionState.RemoteTurn(owner.turnId(), owner.pod()));
                    }
                }
                continue;
            }
            if (loaded.lastTurnId() != null && loaded.lastKind() != null && !loaded.lastKind().isTerminal()) {
                String failure = EventMapper.failure("gateway_restarted", "the gateway restarted while this turn was running");
                whenStoreHasRoom(() -> state.stream().tryPublish(loaded.lastTurnId(), EventKind.TURN_FAILED, failure));
                recovered++;
            }
        }
        metrics.gauge("diminuendo.sessions", "Sessions held by the gateway", byId::size);
        LOG.infof("loaded %d sessions%s%s", byId.size(), unclean ? " (new epochs after an unclean stop)" : "",
                recovered > 0 ? ", ended " + recovered + " interrupted turns" : "");
    }

    /** Start-up only: retries a write until the bounded queue takes it, letting the writer catch up in between. */
    private void whenStoreHasRoom(BooleanSupplier write) {
        while (true) {
            try {
                if (write.getAsBoolean()) {
                    return;
                }
            } catch (EventStore.Overloaded e) {
                // fall through and wait for the writer
            }
            log.barrier().toCompletableFuture().join();
        }
    }

    private SessionState index(SessionRecord record, long lastSeq) {
        SessionState state = new SessionState(record, lastSeq, hub, log, metrics);
        byId.put(record.id(), state);
        byTenant.computeIfAbsent(record.tenantId(), t -> new ConcurrentSkipListMap<>())
                .put(new Key(record.createdAt(), record.id()), state);
        tenantCount(record.tenantId()).incrementAndGet();
        return state;
    }

    private AtomicInteger tenantCount(String tenantId) {
        return tenantCounts.computeIfAbsent(tenantId, t -> new AtomicInteger());
    }

    static String newEpoch() {
        return Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
    }

    public static void requireRead(Identity who) {
        if (!who.canRead()) {
            throw ProtocolException.forbidden("scope sessions:read is required");
        }
    }

    public static void requireWrite(Identity who) {
        if (!who.canWrite()) {
            throw ProtocolException.forbidden("scope sessions:write is required");
        }
    }

    /** The caller's tenant's session, or {@code not_found} (also for other tenants' sessions). */
    public SessionState require(Identity who, String sessionId) {
        SessionState s = byId.get(sessionId);
        if (s == null || s.isDeleted() || !s.tenantId().equals(who.tenantId())) {
            throw ProtocolException.notFound("session", sessionId);
        }
        return s;
    }

    public SessionState get(Identity who, String sessionId) {
        requireRead(who);
        return require(who, sessionId);
    }

    /** Creates a session on backend {@code agent} (null: the default backend). */
    public CompletionStage<String> create(Identity who, String title, String metadataJson, String agent) {
        requireWrite(who);
        return createWithId(who, UUID.randomUUID().toString(), title, metadataJson, agent).thenApply(SessionState::toJson);
    }

    /** A session looked up by id or just created with it ({@link #openOrCreate}). */
    public record Opened(SessionState session, boolean created) {
    }

    /**
     * The caller's tenant's session {@code sessionId}; if no session has that id, it is created with it (as
     * {@link #create} would, announced with {@code session_created}). Another tenant's session, and one whose
     * deletion is under way, are {@code not_found}. Concurrent calls for the same new id create it once. May read the
     * store (a session another pod created): blocking, never on an event loop.
     */
    public CompletionStage<Opened> openOrCreate(Identity who, String sessionId, String title, String metadataJson,
            String agent) {
        requireWrite(who);
        SessionState existing = byId.get(sessionId);
        if (existing == null) {
            existing = lookupOrLoad(sessionId);
        }
        if (existing != null) {
            return CompletableFuture.completedFuture(new Opened(ownedBy(who, existing, sessionId), false));
        }
        CompletableFuture<SessionState> mine = new CompletableFuture<>();
        CompletableFuture<SessionState> racing = creating.putIfAbsent(sessionId, mine);
        if (racing != null) {
            return racing.thenApply(s -> new Opened(ownedBy(who, s, sessionId), false));
        }
        // a creation that finished before this one registered has indexed its session already
        SessionState created = byId.get(sessionId);
        if (created != null) {
            creating.remove(sessionId, mine);
            mine.complete(created);
            return CompletableFuture.completedFuture(new Opened(ownedBy(who, created, sessionId), false));
        }
        CompletionStage<SessionState> insert;
        try {
            insert = createWithId(who, sessionId, title, metadataJson, agent);
        } catch (RuntimeException e) {
            creating.remove(sessionId, mine);
            mine.completeExceptionally(e);
            throw e;
        }
        return insert.whenComplete((s, failure) -> {
            creating.remove(sessionId, mine);
            if (failure != null) {
                mine.completeExceptionally(failure);
            } else {
                mine.complete(s);
            }
        }).thenApply(s -> new Opened(s, true));
    }

    /** {@code s} if it is a live session of the caller's tenant, else {@code not_found} naming {@code sessionId}. */
    private static SessionState ownedBy(Identity who, SessionState s, String sessionId) {
        if (s.isDeleted() || !s.tenantId().equals(who.tenantId())) {
            throw ProtocolException.notFound("session", sessionId);
        }
        return s;
    }

    /** Inserts a new session with this id, indexes it once committed and tells the tenant. */
    private CompletionStage<SessionState> createWithId(Identity who, String sessionId, String title,
            String metadataJson, String agent) {
        if (agent != null && backends.get(agent) == null) {
            throw ProtocolException.badRequest("field 'agent' names no configured backend: " + agent);
        }
        ConcurrentSkipListMap<Key, SessionState> existing = byTenant.get(who.tenantId());
        if (existing != null && tenantCount(who.tenantId()).get() >= maxPerTenant) {
            metrics.limitHit("sessions_per_tenant");
            throw ClientErrors.tenantFull(who.tenantId(), maxPerTenant);
        }
        long now = System.currentTimeMillis();
        SessionRecord record = new SessionRecord(sessionId, who.tenantId(), who.userId(),
                title == null ? "" : title, "idle", metadataJson, agent == null ? backends.defaultBackend().name() : agent,
                newEpoch(), now, now);
        CompletableFuture<SessionState> result = new CompletableFuture<>();
        insert(record).whenComplete((v, failure) -> {
            if (failure != null) {
                if (ClientErrors.unwrap(failure) instanceof SessionStore.TenantFull) {
                    metrics.limitHit("sessions_per_tenant"); // counted in the database: other pods' sessions too
                }
                result.completeExceptionally(failure);
                return;
            }
            SessionState s = index(record, 0);
            result.complete(s);
            announce("session_created", who.tenantId(), record.id(), s.toJson());
        });
        return result;
    }

    public CompletionStage<String> updateTitle(Identity who, String sessionId, String title) {
        requireWrite(who);
        SessionState s = require(who, sessionId);
        return change(s, "session_updated", r -> r.withTitle(title, System.currentTimeMillis()));
    }

    public CompletionStage<String> archive(Identity who, String sessionId) {
        requireWrite(who);
        SessionState s = require(who, sessionId);
        return change(s, "session_archived", r -> r.withStatus("archived", System.currentTimeMillis()));
    }

    /**
     * Applies {@code update} to the session's record and stores it. Everything is decided and the completion
     * registered under the session lock, so a change and a delete of the same session are stored, confirmed and
     * announced in the order they were decided.
     */
    private CompletionStage<String> change(SessionState s, String event, UnaryOperator<SessionRecord> update) {
        CompletableFuture<String> result = new CompletableFuture<>();
        synchronized (s.lock()) {
            // a delete decided before makes this not_found; one decided after is stored after this write; the
            // store's update-if-exists covers a delete on another pod
            s.requireLive();
            SessionRecord previous = s.record();
            SessionRecord next = update.apply(previous);
            CompletionStage<Void> saved = update(next);
            s.record(next);
            saved.whenComplete((v, failure) -> {
                if (failure != null) {
                    synchronized (s.lock()) {
                        // not stored: the session keeps what it had, unless a later change replaced it meanwhile
                        if (s.record() == next) {
                            s.record(previous);
                        }
                    }
                    result.completeExceptionally(failure);
                    return;
                }
                String json = s.toJson();
                result.complete(json);
                announce(event, s.tenantId(), s.id(), json);
            });
        }
        return result;
    }

    /** Deletes a session and its events; only its owner or an admin may. Running turns end silently. */
    public CompletionStage<String> delete(Identity who, String sessionId) {
        requireWrite(who);
        SessionState s = require(who, sessionId);
        if (!who.isAdmin() && !who.userId().equals(s.record().ownerId())) {
            throw ProtocolException.forbidden("only the owner or a sessions:admin may delete session " + sessionId);
        }
        CompletableFuture<String> result = new CompletableFuture<>();
        synchronized (s.lock()) {
            s.requireLive();
            CompletionStage<Void> deleted = deleteStored(sessionId);
            s.markDeleted();
            Turn turn = s.activeTurn();
            if (turn != null) {
                turn.abandon();
            }
            // registered under the lock, like a change's, so the two are announced in the order decided
            deleted.whenComplete((v, failure) -> deletedStored(s, result, failure));
        }
        return result;
    }

    /** The store's delete completed: the session leaves the indexes, its subscribers and the tenant are told. */
    private void deletedStored(SessionState s, CompletableFuture<String> result, Throwable failure) {
        if (failure != null) {
            result.completeExceptionally(failure);
            return;
        }
        String sessionId = s.id();
        byId.remove(sessionId);
        ConcurrentSkipListMap<Key, SessionState> tenant = byTenant.get(s.tenantId());
        if (tenant != null && tenant.remove(new Key(s.record().createdAt(), sessionId)) != null) {
            tenantCount(s.tenantId()).decrementAndGet();
        }
        s.stream().closeAll(DELETED);
        result.complete(sessionId);
        String frame = ServerFrames.tenantSessionDeleted(sessionId);
        hub.publish(Hub.tenantTopic(s.tenantId()), frame, 0);
        broker.publishSessionChange(s.tenantId(), sessionId, DELETED, frame);
    }

    /** A page of the caller's tenant's sessions, newest first. */
    public Page list(Identity who, int limit, String cursor, String status) {
        requireRead(who);
        ConcurrentSkipListMap<Key, SessionState> tenant = byTenant.get(who.tenantId());
        if (tenant == null) {
            return new Page(List.of(), null);
        }
        Map<Key, SessionState> view = cursor == null ? tenant : tenant.tailMap(decodeCursor(cursor), false);
        List<String> items = new ArrayList<>(Math.min(limit, 64));
        Key last = null;
        boolean more = false;
        for (Map.Entry<Key, SessionState> e : view.entrySet()) {
            SessionState s = e.getValue();
            if (s.isDeleted() || (status != null && !status.equals(s.status()))) {
                continue;
            }
            if (items.size() == limit) {
                more = true;
                break;
            }
            items.add(s.toJson());
            last = e.getKey();
        }
        return new Page(items, more ? encodeCursor(last) : null);
    }

    /** Session objects as JSON and the cursor of the next page (null at the end). */
    public record Page(List<String> items, String nextCursor) {
    }

    public Collection<SessionState> all() {
        return byId.values();
    }

    private static String encodeCursor(Key key) {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((key.createdAt() + ":" + key.id()).getBytes(StandardCharsets.UTF_8));
    }

    private static Key decodeCursor(String cursor) {
        try {
            String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            int colon = raw.indexOf(':');
            return new Key(Long.parseLong(raw.substring(0, colon)), raw.substring(colon + 1));
        } catch (RuntimeException e) {
            throw ProtocolException.badRequest("field 'cursor' is not a cursor this gateway issued");
        }
    }

    private void announce(String event, String tenantId, String sessionId, String sessionJson) {
        String frame = ServerFrames.tenantEvent(event, sessionJson);
        hub.publish(Hub.tenantTopic(tenantId), frame, 0);
        broker.publishSessionChange(tenantId, sessionId, event, frame);
    }

    /**
     * The session with this id, also one another pod created that this pod has not heard of yet (read from the
     * store: blocking, never on an event loop); null if it does not exist or is deleted.
     */
    SessionState lookupOrLoad(String sessionId) {
        SessionState s = byId.get(sessionId);
        if (s != null) {
            return s.isDeleted() ? null : s;
        }
        return store.loadSession(sessionId).map(l -> adopt(l.session(), l.lastSeq())).orElse(null);
    }

    private synchronized SessionState adopt(SessionRecord record, long lastSeq) {
        SessionState s = byId.get(record.id());
        return s != null ? s : index(record, lastSeq);
    }

    /**
     * Applies a change another pod committed (cluster mode): the row is read again from the store, or the session
     * dropped, and the tenant's connections here get the same tenant event. Blocking.
     */
    void applyRemoteChange(String tenantId, String sessionId, String change, String frame) {
        if (DELETED.equals(change)) {
            SessionState s = byId.remove(sessionId);
            if (s != null) {
                synchronized (s.lock()) {
                    s.markDeleted();
                    Turn turn = s.activeTurn();
                    if (turn != null) {
                        turn.abandon();
                    }
                }
                ConcurrentSkipListMap<Key, SessionState> tenant = byTenant.get(s.tenantId());
                if (tenant != null && tenant.remove(new Key(s.record().createdAt(), sessionId)) != null) {
                    tenantCount(s.tenantId()).decrementAndGet();
                }
                s.stream().closeAll(DELETED);
            }
        } else {
            SessionStore.LoadedSession loaded = store.loadSession(sessionId).orElse(null);
            if (loaded == null) {
                return;
            }
            SessionState s = byId.get(sessionId);
            if (s == null) {
                adopt(loaded.session(), loaded.lastSeq());
            } else {
                synchronized (s.lock()) {
                    s.record(loaded.session());
                }
                // the stream is not moved to the stored last seq: events up to it may still be on the bus, and
                // moving past them would drop them as duplicates instead of delivering them
            }
        }
        hub.publish(Hub.tenantTopic(tenantId), frame, 0);
    }

    /** The session if this pod holds it, else null; never reads the store. */
    SessionState known(String sessionId) {
        return byId.get(sessionId);
    }

    /**
     * Gives the session a new epoch and saves it (its events may have been delivered without being stored); the
     * tenant hears {@code session_updated}.
     */
    CompletionStage<String> renewEpoch(SessionState s) {
        String epoch = newEpoch();
        return change(s, "session_updated", r -> r.withEpoch(epoch));
    }

    /** Publishes an event outside any turn, waiting for room in the writer queue if it is full. Blocking. */
    void publishWhenWritable(SessionState s, String turnId, EventKind kind, String dataJson) {
        whenStoreHasRoom(() -> s.stream().tryPublish(turnId, kind, dataJson));
    }

    /** Takes the epoch another pod gave the session (after it took over from a pod that died). */
    void adoptEpoch(SessionState s, String epoch) {
        if (epoch != null && !epoch.equals(s.epoch())) {
            synchronized (s.lock()) {
                s.record(s.record().withEpoch(epoch));
            }
        }
    }

    private CompletionStage<Void> insert(SessionRecord record) {
        try {
            return store.insertSession(record, maxPerTenant);
        } catch (EventStore.Overloaded e) {
            throw ClientErrors.overloaded();
        }
    }

    private CompletionStage<Void> update(SessionRecord record) {
        try {
            return store.updateSession(record);
        } catch (EventStore.Overloaded e) {
            throw ClientErrors.overloaded();
        }
    }

    private CompletionStage<Void> deleteStored(String sessionId) {
        try {
            return store.deleteSession(sessionId);
        } catch (EventStore.Overloaded e) {
            throw ClientErrors.overloaded();
        }
    }

}

package io.diminuendo.session;

import java.util.LinkedHashMap;
import java.util.Map;

import io.diminuendo.hub.Hub;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.Json;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.store.EventLog;
import io.diminuendo.store.SessionRecord;
import io.diminuendo.stream.SessionStream;

/**
 * A session as the gateway holds it: its durable record, its live stream and its running turn, if any.
 *
 * <p>{@link #lock()} is the session lock. Every change to the session — its record, its running turn, its
 * answered permission requests, its deletion — and every event of its stream happen while holding it, so requests,
 * timeouts and the backend's events act on one consistent session, one at a time. Methods that require it assert it.
 */
public final class SessionState {
    static final int RESOLVED_KEPT = 256;
    private final Object lock = new Object();
    private volatile SessionRecord record;
    private final SessionStream stream;
    private volatile Turn activeTurn;
    /** A turn of this session running on another pod (cluster mode): its id and pod, from its events. */
    private volatile RemoteTurn remoteTurn;
    private volatile boolean deleted;
    private Map<String, Boolean> resolvedPermissions;

    SessionState(SessionRecord record, long lastSeq, Hub hub, EventLog store, GatewayMetrics metrics) {
        this.record = record;
        this.stream = new SessionStream(record.id(), record.tenantId(), lastSeq, hub, store, metrics, lock);
    }

    /** The session lock (see the class comment). */
    Object lock() {
        return lock;
    }

    public SessionRecord record() {
        return record;
    }

    void record(SessionRecord next) {
        assert Thread.holdsLock(lock);
        this.record = next;
    }

    public String id() {
        return record.id();
    }

    public String tenantId() {
        return record.tenantId();
    }

    public SessionStream stream() {
        return stream;
    }

    /** The running turn. Caller holds the session lock. */
    Turn activeTurn() {
        assert Thread.holdsLock(lock);
        return activeTurn;
    }

    /** Caller holds the session lock. */
    void activeTurn(Turn turn) {
        assert Thread.holdsLock(lock);
        this.activeTurn = turn;
    }

    /** The turn another pod runs in this session, or null. */
    RemoteTurn remoteTurn() {
        return remoteTurn;
    }

    /** Caller holds the session lock. */
    void remoteTurn(RemoteTurn turn) {
        assert Thread.holdsLock(lock);
        this.remoteTurn = turn;
    }

    /** A turn running on another pod. */
    record RemoteTurn(String turnId, String pod) {
    }

    /** True if {@code requestId} was answered in this session, also in a turn that has ended. Caller holds the session lock. */
    boolean isPermissionResolved(String requestId) {
        assert Thread.holdsLock(lock);
        return resolvedPermissions != null && resolvedPermissions.containsKey(requestId);
    }

    /** Remembers an answered permission request (the most recent {@value #RESOLVED_KEPT}). Caller holds the session lock. */
    void permissionResolved(String requestId) {
        assert Thread.holdsLock(lock);
        if (resolvedPermissions == null) {
            resolvedPermissions = new LinkedHashMap<>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > RESOLVED_KEPT;
                }
            };
        }
        resolvedPermissions.put(requestId, Boolean.TRUE);
    }

    public boolean isArchived() {
        return "archived".equals(record.status());
    }

    boolean isDeleted() {
        return deleted;
    }

    /**
     * Refuses a request on a deleted session with {@code not_found}. Caller holds the session lock, so the answer
     * stays true until it lets go: whatever the request then does happens before the delete is decided, never after.
     */
    void requireLive() {
        assert Thread.holdsLock(lock);
        if (deleted) {
            throw ProtocolException.notFound("session", id());
        }
    }

    /**
     * Decides the deletion: from here on every request is {@code not_found} and the stream takes no event and no
     * subscriber, so nothing can be written after the store's delete. Caller holds the session lock.
     */
    void markDeleted() {
        assert Thread.holdsLock(lock);
        deleted = true;
        stream.stop();
    }

    public String status() {
        if (isArchived()) {
            return "archived";
        }
        return activeTurn != null || remoteTurn != null ? "running" : "idle";
    }

    public String epoch() {
        return record.epoch();
    }

    /** The session object of the protocol (docs/protocol.md, "Sessions"), with {@code epoch}, {@code agent} and {@code metadata}. */
    public String toJson() {
        SessionRecord r = record;
        return Json.obj().str("id", r.id()).str("tenantId", r.tenantId()).str("ownerId", r.ownerId())
                .str("title", r.title()).str("status", status()).num("createdAt", r.createdAt())
                .num("updatedAt", r.updatedAt()).num("lastSeq", stream.lastSeq()).str("epoch", r.epoch())
                .str("agent", r.agent()).raw("metadata", r.metadataJson() == null ? "{}" : r.metadataJson()).end();
    }
}

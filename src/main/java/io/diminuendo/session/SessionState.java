package io.diminuendo.session;

import java.util.LinkedHashMap;
import java.util.Map;

import io.diminuendo.protocol.Json;
import io.diminuendo.store.SessionRecord;
import io.diminuendo.stream.SessionStream;

/** A session as the gateway holds it: its durable record, its live stream and its running turn, if any. */
public final class SessionState {
    static final int RESOLVED_KEPT = 256;
    private volatile SessionRecord record;
    private final SessionStream stream;
    private volatile Turn activeTurn;
    private volatile boolean deleted;
    private Map<String, Boolean> resolvedPermissions;

    SessionState(SessionRecord record, SessionStream stream) {
        this.record = record;
        this.stream = stream;
    }

    public SessionRecord record() {
        return record;
    }

    void record(SessionRecord next) {
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

    /** The running turn; read and written under the stream's monitor. */
    Turn activeTurn() {
        return activeTurn;
    }

    void activeTurn(Turn turn) {
        this.activeTurn = turn;
    }

    /** True if {@code requestId} was answered in this session, also in a turn that has ended. Under the stream's monitor. */
    boolean isPermissionResolved(String requestId) {
        return resolvedPermissions != null && resolvedPermissions.containsKey(requestId);
    }

    /** Remembers an answered permission request (the most recent {@value #RESOLVED_KEPT}). Under the stream's monitor. */
    void permissionResolved(String requestId) {
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

    void markDeleted() {
        deleted = true;
    }

    public String status() {
        if (isArchived()) {
            return "archived";
        }
        return activeTurn != null ? "running" : "idle";
    }

    public String epoch() {
        return record.epoch();
    }

    /** The session object of the protocol (PROTOCOL.md §1.3), with {@code epoch}, {@code agent} and {@code metadata}. */
    public String toJson() {
        SessionRecord r = record;
        return Json.obj().str("id", r.id()).str("tenantId", r.tenantId()).str("ownerId", r.ownerId())
                .str("title", r.title()).str("status", status()).num("createdAt", r.createdAt())
                .num("updatedAt", r.updatedAt()).num("lastSeq", stream.lastSeq()).str("epoch", r.epoch())
                .str("agent", r.agent()).raw("metadata", r.metadataJson() == null ? "{}" : r.metadataJson()).end();
    }
}

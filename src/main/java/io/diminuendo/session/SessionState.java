package io.diminuendo.session;

import io.diminuendo.protocol.Json;
import io.diminuendo.store.SessionRecord;
import io.diminuendo.stream.SessionStream;

/** A session as the gateway holds it: its durable record, its live stream and its running turn, if any. */
public final class SessionState {
    private volatile SessionRecord record;
    private final SessionStream stream;
    private volatile Turn activeTurn;
    private volatile boolean deleted;

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

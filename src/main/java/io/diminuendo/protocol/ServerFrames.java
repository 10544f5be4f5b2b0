package io.diminuendo.protocol;

import java.util.Collection;
import java.util.List;

/** Builders for every frame the gateway sends; each returns the finished JSON text. */
public final class ServerFrames {
    public static final int PROTOCOL_VERSION = 1;

    private ServerFrames() {
    }

    private static Json.Obj reply(String type, String id) {
        Json.Obj o = Json.obj().str("type", type);
        if (id != null) {
            o.raw("id", id);
        }
        return o;
    }

    public static String error(String id, ErrorCode code, String message) {
        return reply("error", id).str("code", code.wire()).str("message", message).end();
    }

    /** An error the client may retry after {@code retryAfterMs} ({@code rate_limited}). */
    public static String error(String id, ErrorCode code, String message, long retryAfterMs) {
        return reply("error", id).str("code", code.wire()).str("message", message).num("retryAfterMs", retryAfterMs)
                .end();
    }

    public static String authenticated(String id, String connectionId, String userId, String tenantId,
            Collection<String> scopes, long serverTime) {
        StringBuilder user = new StringBuilder(96);
        Json.Obj u = new Json.Obj(user).str("id", userId).str("tenantId", tenantId);
        u.raw("scopes", stringArray(scopes));
        return reply("authenticated", id).str("connectionId", connectionId).raw("user", u.end())
                .num("protocolVersion", PROTOCOL_VERSION).num("serverTime", serverTime).end();
    }

    public static String withSession(String type, String id, String sessionJson) {
        return reply(type, id).raw("session", sessionJson).end();
    }

    public static String sessionDeleted(String id, String sessionId) {
        return reply("session_deleted", id).str("sessionId", sessionId).end();
    }

    public static String sessions(String id, List<String> sessionJsons, String nextCursor) {
        return reply("sessions", id).raw("items", rawArray(sessionJsons)).str("nextCursor", nextCursor).end();
    }

    public static String tenantEvent(String event, String sessionJson) {
        return Json.obj().str("type", "tenant_event").str("event", event).raw("session", sessionJson).end();
    }

    public static String tenantSessionDeleted(String sessionId) {
        return Json.obj().str("type", "tenant_event").str("event", "session_deleted").str("sessionId", sessionId).end();
    }

    public static String subscribed(String id, String sessionId, long lastSeq, String status, String epoch) {
        return reply("subscribed", id).str("sessionId", sessionId).num("lastSeq", lastSeq).str("status", status)
                .str("epoch", epoch).end();
    }

    public static String unsubscribed(String id, String sessionId, String reason) {
        return reply("unsubscribed", id).str("sessionId", sessionId).strIfPresent("reason", reason).end();
    }

    public static String history(String id, String sessionId, List<String> eventFrames, long lastSeq) {
        return reply("history", id).str("sessionId", sessionId).raw("events", rawArray(eventFrames))
                .num("lastSeq", lastSeq).end();
    }

    public static String messageAccepted(String id, String sessionId, String turnId) {
        return reply("message_accepted", id).str("sessionId", sessionId).str("turnId", turnId).end();
    }

    public static String cancelRequested(String id, String sessionId, String turnId) {
        return reply("cancel_requested", id).str("sessionId", sessionId).str("turnId", turnId).end();
    }

    public static String permissionDecisionAccepted(String id, String sessionId, String requestId) {
        return reply("permission_decision_accepted", id).str("sessionId", sessionId).str("requestId", requestId).end();
    }

    public static String pong(String id, long serverTime) {
        return reply("pong", id).num("serverTime", serverTime).end();
    }

    /** The one event frame shape shared by every kind; {@code dataJson} is a pre-encoded object. */
    public static String event(String sessionId, long seq, String turnId, EventKind kind, long ts, String dataJson) {
        // sized for the whole frame (its fixed text and two longs take at most 114 chars), so it does not grow
        StringBuilder out = new StringBuilder(114 + sessionId.length() + (turnId == null ? 4 : turnId.length())
                + kind.wire().length() + dataJson.length());
        return new Json.Obj(out).str("type", "event").str("sessionId", sessionId).num("seq", seq).str("turnId", turnId)
                .str("kind", kind.wire()).num("ts", ts).raw("data", dataJson).end();
    }

    public static String stringArray(Collection<String> values) {
        StringBuilder out = new StringBuilder(16 * values.size() + 2).append('[');
        boolean first = true;
        for (String v : values) {
            if (!first) {
                out.append(',');
            }
            first = false;
            Json.string(out, v);
        }
        return out.append(']').toString();
    }

    public static String rawArray(List<String> jsonValues) {
        int size = 2;
        for (String v : jsonValues) {
            size += v.length() + 1;
        }
        StringBuilder out = new StringBuilder(size).append('[');
        for (int i = 0; i < jsonValues.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            out.append(jsonValues.get(i));
        }
        return out.append(']').toString();
    }
}

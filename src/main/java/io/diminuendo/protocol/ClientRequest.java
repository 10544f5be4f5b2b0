package io.diminuendo.protocol;

/**
 * Every request a client may send, decoded and validated. {@code id} is the request id already encoded as
 * JSON (a string literal or an integer), echoed verbatim in the direct reply; it is null when absent.
 */
public sealed interface ClientRequest {
    String id();

    /** The session the request is about, or null; records with a {@code sessionId} component override this. */
    default String sessionId() {
        return null;
    }

    record Authenticate(String id, String token) implements ClientRequest {
    }

    /** {@code agent} names a configured backend, or is null for the default. */
    record CreateSession(String id, String title, String metadataJson, String agent) implements ClientRequest {
    }

    record ListSessions(String id, int limit, String cursor, String status) implements ClientRequest {
    }

    record GetSession(String id, String sessionId) implements ClientRequest {
    }

    record UpdateSession(String id, String sessionId, String title) implements ClientRequest {
    }

    record ArchiveSession(String id, String sessionId) implements ClientRequest {
    }

    record DeleteSession(String id, String sessionId) implements ClientRequest {
    }

    /** {@code afterSeq} is -1 when absent (live only). */
    record Subscribe(String id, String sessionId, long afterSeq) implements ClientRequest {
    }

    record Unsubscribe(String id, String sessionId) implements ClientRequest {
    }

    record History(String id, String sessionId, long afterSeq, int limit) implements ClientRequest {
    }

    record SendMessage(String id, String sessionId, String text, String clientMessageId) implements ClientRequest {
    }

    record CancelTurn(String id, String sessionId) implements ClientRequest {
    }

    record PermissionDecision(String id, String sessionId, String requestId, String decision) implements ClientRequest {
    }

    record Ping(String id) implements ClientRequest {
    }
}

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

    /** Calls the {@code visitor} method for this request's type. */
    void accept(Visitor visitor);

    /**
     * One method per request type: a new record must implement {@link #accept}, which needs a method here, which
     * every visitor must then implement — the compiler lists each place that handles requests.
     */
    interface Visitor {
        void authenticate(Authenticate request);

        void createSession(CreateSession request);

        void listSessions(ListSessions request);

        void getSession(GetSession request);

        void updateSession(UpdateSession request);

        void archiveSession(ArchiveSession request);

        void deleteSession(DeleteSession request);

        void subscribe(Subscribe request);

        void unsubscribe(Unsubscribe request);

        void history(History request);

        void sendMessage(SendMessage request);

        void cancelTurn(CancelTurn request);

        void permissionDecision(PermissionDecision request);

        void ping(Ping request);
    }

    record Authenticate(String id, String token) implements ClientRequest {
        @Override
        public void accept(Visitor visitor) {
            visitor.authenticate(this);
        }
    }

    /** {@code agent} names a configured backend, or is null for the default. */
    record CreateSession(String id, String title, String metadataJson, String agent) implements ClientRequest {
        @Override
        public void accept(Visitor visitor) {
            visitor.createSession(this);
        }
    }

    record ListSessions(String id, int limit, String cursor, String status) implements ClientRequest {
        @Override
        public void accept(Visitor visitor) {
            visitor.listSessions(this);
        }
    }

    record GetSession(String id, String sessionId) implements ClientRequest {
        @Override
        public void accept(Visitor visitor) {
            visitor.getSession(this);
        }
    }

    record UpdateSession(String id, String sessionId, String title) implements ClientRequest {
        @Override
        public void accept(Visitor visitor) {
            visitor.updateSession(this);
        }
    }

    record ArchiveSession(String id, String sessionId) implements ClientRequest {
        @Override
        public void accept(Visitor visitor) {
            visitor.archiveSession(this);
        }
    }

    record DeleteSession(String id, String sessionId) implements ClientRequest {
        @Override
        public void accept(Visitor visitor) {
            visitor.deleteSession(this);
        }
    }

    /** {@code afterSeq} is -1 when absent (live only). */
    record Subscribe(String id, String sessionId, long afterSeq) implements ClientRequest {
        @Override
        public void accept(Visitor visitor) {
            visitor.subscribe(this);
        }
    }

    record Unsubscribe(String id, String sessionId) implements ClientRequest {
        @Override
        public void accept(Visitor visitor) {
            visitor.unsubscribe(this);
        }
    }

    record History(String id, String sessionId, long afterSeq, int limit) implements ClientRequest {
        @Override
        public void accept(Visitor visitor) {
            visitor.history(this);
        }
    }

    record SendMessage(String id, String sessionId, String text, String clientMessageId) implements ClientRequest {
        @Override
        public void accept(Visitor visitor) {
            visitor.sendMessage(this);
        }
    }

    record CancelTurn(String id, String sessionId) implements ClientRequest {
        @Override
        public void accept(Visitor visitor) {
            visitor.cancelTurn(this);
        }
    }

    record PermissionDecision(String id, String sessionId, String requestId, String decision) implements ClientRequest {
        @Override
        public void accept(Visitor visitor) {
            visitor.permissionDecision(this);
        }
    }

    record Ping(String id) implements ClientRequest {
        @Override
        public void accept(Visitor visitor) {
            visitor.ping(this);
        }
    }
}

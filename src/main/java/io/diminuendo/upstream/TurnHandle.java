package io.diminuendo.upstream;

/** The gateway's handle on a running turn at a backend. */
public interface TurnHandle {
    /** Asks the backend to stop the turn; the gateway has already ended it for clients. */
    void cancel();

    /** Forwards a user's answer to a {@code permission_request}. */
    void permissionDecision(String requestId, String decision);
}

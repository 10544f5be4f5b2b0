package io.diminuendo.store;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

import io.diminuendo.protocol.EventKind;

/** What the session registry needs of the store: session rows, written through the same writer as events. */
public interface SessionStore {
    /** Inserts a new session row; completes once committed. Throws {@link EventStore.Overloaded}. */
    default CompletionStage<Void> insertSession(SessionRecord session) {
        return insertSession(session, Integer.MAX_VALUE);
    }

    /**
     * Inserts a new session row unless the store already holds {@code maxPerTenant} sessions of its tenant, in which
     * case it completes with {@link TenantFull}. A store shared by several pods counts in the database, so the limit
     * holds however many pods create at once; a store that one process owns leaves the count to that process's
     * registry. Throws {@link EventStore.Overloaded}.
     */
    CompletionStage<Void> insertSession(SessionRecord session, int maxPerTenant);

    /**
     * Updates a session row if it still exists; completes once committed, or with {@link Missing} when no row was
     * there (the session was deleted, maybe by another pod): an update never brings a deleted session back. Throws
     * {@link EventStore.Overloaded}.
     */
    CompletionStage<Void> updateSession(SessionRecord session);

    /** Deletes a session and all its events; completes once committed. Throws {@link EventStore.Overloaded}. */
    CompletionStage<Void> deleteSession(String sessionId);

    /** Every stored session with its last persisted seq and the kind of its last event. Blocking. */
    List<LoadedSession> loadSessions();

    /** One stored session, as {@link #loadSessions()} would find it, or empty. Blocking. */
    Optional<LoadedSession> loadSession(String sessionId);

    /** True when the previous run of the gateway did not stop cleanly (checked once at start-up). */
    boolean previousRunUnclean();

    /** The tenant already has as many sessions as it may hold. */
    final class TenantFull extends RuntimeException {
        private final String tenantId;
        private final int limit;

        public TenantFull(String tenantId, int limit) {
            super("tenant " + tenantId + " already has " + limit + " sessions", null, false, false);
            this.tenantId = tenantId;
            this.limit = limit;
        }

        public String tenantId() {
            return tenantId;
        }

        public int limit() {
            return limit;
        }
    }

    /** An update found no session row: the session was deleted. */
    final class Missing extends RuntimeException {
        private final String sessionId;

        public Missing(String sessionId) {
            super("session " + sessionId + " does not exist any more", null, false, false);
            this.sessionId = sessionId;
        }

        public String sessionId() {
            return sessionId;
        }
    }

    /** A session as found at start-up; {@code lastKind} is null when it has no events. */
    record LoadedSession(SessionRecord session, long lastSeq, EventKind lastKind, String lastTurnId) {
    }
}

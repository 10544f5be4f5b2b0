package io.diminuendo.store;

import java.util.List;
import java.util.concurrent.CompletionStage;

import io.diminuendo.protocol.EventKind;

/**
 * Durable sessions and event streams. Writes are asynchronous and bounded; reads block and must run off the
 * event loop. The embedded implementation is {@link SqliteEventStore}; a shared engine (PostgreSQL, a log
 * service) can take its place when several gateway instances share sessions.
 */
public interface EventStore {

    /** Thrown by write methods when the bounded write queue is full; nothing was queued. */
    final class Overloaded extends RuntimeException {
        public Overloaded() {
            super("the store's write queue is full; retry shortly", null, false, false);
        }
    }

    /** A write that reached the store and failed there (I/O error, disk full); it was rolled back. */
    final class StoreFailure extends RuntimeException {
        public StoreFailure(Throwable cause) {
            super("store write failed: " + cause.getMessage(), cause);
        }
    }

    /**
     * Queues a streamed event. Returns false, queuing nothing, when the write queue is full: the producer must
     * hold the event and wait for {@link #whenWritable}.
     */
    boolean tryAppend(StoredEvent event);

    /** Runs {@code task} once the write queue has room again (possibly at once, on the calling thread). */
    void whenWritable(Runnable task);

    /** Inserts or replaces a session row; completes once committed. */
    CompletionStage<Void> saveSession(SessionRecord session);

    /** Deletes a session and all its events; completes once committed. */
    CompletionStage<Void> deleteSession(String sessionId);

    /** Completes once every write queued before this call is committed. */
    CompletionStage<Void> barrier();

    /** Events of a session with {@code afterSeq < seq <= maxSeq}, ascending, at most {@code limit}. Blocking. */
    List<StoredEvent> readEvents(String sessionId, long afterSeq, long maxSeq, int limit);

    /** Every stored session with its last persisted seq and the kind of its last event. Blocking. */
    List<LoadedSession> loadSessions();

    /** A session as found at start-up; {@code lastKind} is null when it has no events. */
    record LoadedSession(SessionRecord session, long lastSeq, EventKind lastKind, String lastTurnId) {
    }

    /** True when the previous run of the gateway did not stop cleanly (checked once at start-up). */
    boolean previousRunUnclean();

    /** Whether the writer thread runs and its current batch is not stuck past the stall threshold. */
    boolean writerAlive();

    /** {@link #writerAlive()} and the last commit succeeded. */
    boolean writerHealthy();

    /** Commits a small real write through the writer; true if it committed within the timeout. Blocking. */
    boolean probeWritable(long timeoutMillis);

    /** Commits everything queued, records a clean stop and refuses further writes. Blocking; idempotent. */
    void drainAndStop();

    /** Writes waiting for the writer. */
    int queueDepth();
}

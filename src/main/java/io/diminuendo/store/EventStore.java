package io.diminuendo.store;

/**
 * One engine's whole store: the event log, the session rows and the writer's health, all behind one batching
 * writer ({@link BatchWriter}). Callers depend on the part they use ({@link EventLog}, {@link SessionStore},
 * {@link StoreHealth}). {@link SqliteEventStore} is the embedded engine, {@link PostgresEventStore} the shared one.
 */
public interface EventStore extends EventLog, SessionStore, StoreHealth {

    /** Thrown by write methods when the bounded write queue is full; nothing was queued. */
    final class Overloaded extends RuntimeException {
        public Overloaded() {
            super("the store's write queue is full; retry shortly", null, false, false);
        }
    }

    /** No read connection could be had in time (the pool is exhausted): the read can be tried again shortly. */
    final class ReadBusy extends RuntimeException {
        public ReadBusy(Throwable cause) {
            super("no store read connection free: " + cause.getMessage(), cause, false, false);
        }
    }

    /** A write that reached the store and failed there (I/O error, disk full); it was rolled back. */
    final class StoreFailure extends RuntimeException {
        public StoreFailure(Throwable cause) {
            super("store write failed: " + cause.getMessage(), cause);
        }
    }
}

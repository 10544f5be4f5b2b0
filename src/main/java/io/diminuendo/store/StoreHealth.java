package io.diminuendo.store;

/** What health checks and the graceful stop need of the store. */
public interface StoreHealth {
    /** Whether the writer thread runs and its current batch is not stuck past the stall threshold. */
    boolean writerAlive();

    /** {@link #writerAlive()} and the last commit succeeded. */
    boolean writerHealthy();

    /** Commits a small real write through the writer; true if it committed within the timeout. Blocking. */
    boolean probeWritable(long timeoutMillis);

    /** Writes waiting for the writer. */
    int queueDepth();

    /** Commits everything queued, records a clean stop and refuses further writes. Blocking; idempotent. */
    void drainAndStop();
}

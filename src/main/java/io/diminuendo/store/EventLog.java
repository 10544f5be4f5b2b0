package io.diminuendo.store;

import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * What a session's stream needs of the store: bounded asynchronous appends in seq order, a barrier, and reads of
 * what was committed. Reads block and must run off the event loop.
 */
public interface EventLog {
    /**
     * Queues a streamed event. Returns false, queuing nothing, when the write queue is full: the producer must
     * hold the event and wait for {@link #whenWritable}.
     */
    boolean tryAppend(StoredEvent event);

    /** Runs {@code task} once the write queue has room again (possibly at once, on the calling thread). */
    void whenWritable(Runnable task);

    /**
     * Completes once every write queued before this call is committed (a request's write: or answered with its
     * failure). It never fails: while the store cannot write, it waits with the streamed events before it.
     */
    CompletionStage<Void> barrier();

    /**
     * Completes like {@link #barrier()}, but fails as soon as a commit fails: the reply to a request that wrote events
     * is {@code unavailable} then instead of waiting for the store to write again. Nothing read after it is safe to
     * assume complete; readers use {@link #barrier()}.
     */
    default CompletionStage<Void> acknowledgement() {
        return barrier();
    }

    /** Events of a session with {@code afterSeq < seq <= maxSeq}, ascending, at most {@code limit}. Blocking. */
    List<StoredEvent> readEvents(String sessionId, long afterSeq, long maxSeq, int limit);

    /**
     * Hands the events of every committed batch, in seq order per session, to {@code listener} on the writer thread
     * right after the commit (how a cluster shares them: only what is stored is published). One listener.
     */
    void onCommitted(Consumer<List<StoredEvent>> listener);
}

package io.diminuendo.connection;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * A connection's {@code history} requests, answered one after another: each waits for room in the connection's
 * outbound queue before it reads, so running them side by side would only have them all find room at once and
 * queue their replies together. At most {@link #MAX_WAITING} wait; more are refused.
 */
final class HistoryRequests {
    static final int MAX_WAITING = 16;

    private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
    private int waiting;

    /**
     * Starts {@code request} once the earlier ones are answered (now, on this thread, if none is pending); false
     * when {@link #MAX_WAITING} are pending already. The stage {@code request} returns must complete once its reply
     * is queued, successful or not.
     */
    synchronized boolean submit(Supplier<CompletionStage<?>> request) {
        if (waiting >= MAX_WAITING) {
            return false;
        }
        waiting++;
        tail = tail.thenCompose(ignored -> request.get()).handle((ignored, failure) -> {
            answered();
            return null;
        });
        return true;
    }

    private synchronized void answered() {
        waiting--;
    }
}

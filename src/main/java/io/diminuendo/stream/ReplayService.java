package io.diminuendo.stream;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.LongFunction;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.diminuendo.store.EventStore;
import io.diminuendo.store.StoredEvent;
import io.smallrye.mutiny.infrastructure.Infrastructure;

/**
 * Subscribing with history and reading history pages. The subscription is attached to the live stream first
 * (buffering) and the boundary seq read in the same atomic step; then the store is asked for every event up
 * to the boundary (after a write barrier, so all of them are committed), and finally the buffered live
 * frames above the boundary follow. That closes the replay/live race without a gap or a duplicate.
 */
@ApplicationScoped
public class ReplayService {
    private static final Logger LOG = Logger.getLogger(ReplayService.class);
    static final int PAGE = 500;
    private static final long ROOM_TIMEOUT_MS = 30_000;

    private final EventStore store;
    private final Executor blocking = Infrastructure.getDefaultWorkerPool();

    public ReplayService(EventStore store) {
        this.store = store;
    }

    /** A page of history: events after the requested seq and the session's last seq when it was read. */
    public record Page(List<StoredEvent> events, long lastSeq) {
        public List<String> frames() {
            List<String> frames = new ArrayList<>(events.size());
            for (StoredEvent e : events) {
                frames.add(e.frame());
            }
            return frames;
        }
    }

    /**
     * Attaches {@code subscription} to {@code stream}; with {@code afterSeq >= 0} replays stored events first.
     * {@code subscribedFrame} builds the {@code subscribed} reply for the boundary seq.
     */
    public void subscribe(SessionStream stream, Subscription subscription, long afterSeq,
            LongFunction<String> subscribedFrame) {
        long boundary = stream.attach(subscription);
        if (afterSeq < 0 || afterSeq >= boundary) {
            subscription.goLive(subscribedFrame.apply(boundary));
            return;
        }
        store.barrier().whenCompleteAsync((ignored, failure) -> {
            try {
                replay(stream.sessionId(), subscription, afterSeq, boundary);
                subscription.goLive(subscribedFrame.apply(boundary));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                LOG.errorf(e, "replay of session %s failed", stream.sessionId());
                stream.detach(subscription);
            }
        }, blocking);
    }

    private void replay(String sessionId, Subscription subscription, long afterSeq, long boundary)
            throws InterruptedException {
        // awaitRoom leaves at least half the outbound queue free; a page must fit in it (with a margin for the
        // connection's other frames), or a small queue overflows on the first page and the client is cut with 4009
        int pageSize = Math.max(1, Math.min(PAGE, subscription.capacity() / 4));
        long from = afterSeq;
        while (from < boundary && !subscription.isClosed()) {
            if (!subscription.awaitRoom(ROOM_TIMEOUT_MS)) {
                return;
            }
            List<StoredEvent> page = store.readEvents(sessionId, from, boundary, pageSize);
            if (page.isEmpty()) {
                LOG.warnf("session %s: store has no events after seq %d up to %d", sessionId, from, boundary);
                return;
            }
            for (StoredEvent e : page) {
                subscription.sendReplayed(e.frame(), e.seq());
            }
            from = page.get(page.size() - 1).seq();
        }
    }

    /** Reads up to {@code limit} events after {@code afterSeq}, consistent with the returned last seq. */
    public CompletionStage<Page> history(SessionStream stream, long afterSeq, int limit) {
        long boundary = stream.lastSeq();
        CompletableFuture<Page> result = new CompletableFuture<>();
        store.barrier().whenCompleteAsync((ignored, failure) -> {
            try {
                result.complete(new Page(store.readEvents(stream.sessionId(), afterSeq, boundary, limit), boundary));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        }, blocking);
        return result;
    }
}

package io.diminuendo.stream;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongFunction;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.store.EventLog;
import io.diminuendo.store.EventStore;
import io.diminuendo.store.StoredEvent;
import io.micrometer.core.instrument.Counter;
import io.smallrye.mutiny.infrastructure.Infrastructure;

/**
 * Subscribing with history and reading history pages. The subscription is attached to the live stream first
 * (buffering) and the boundary seq read in the same atomic step; then the store is asked for every event up
 * to the boundary (after a write barrier, so all of them are committed), and finally the buffered live
 * frames above the boundary follow. That closes the replay/live race without a gap or a duplicate.
 * <p>
 * A replay is paced by the client: it waits for room in the connection's outbound queue between pages. Live
 * events arriving meanwhile are buffered only up to a quarter of that queue, so that they fit into it at once
 * after a wait for room. If more arrive, the subscription drops them and the replay <em>catches up</em>: after
 * another barrier it reads on from the old boundary to the newest live seq the subscription was handed, round
 * after round, until a round ends with the buffered live events within that bound. Only then is
 * {@code subscribed} sent, with the final boundary. Every catch-up round replays more events than the bound, so a
 * client that reads faster than the session streams is live after a few rounds; one that reads slower catches up
 * round after round, at its own pace, and is live once the stream pauses. It is never cut for being behind: only a
 * client that keeps its queue more than half full for {@code slow-reader-timeout}, reading nothing, is closed with
 * 4009 (and resumes with {@code afterSeq}).
 * <p>
 * A live subscription falls back to the same catch-up when its client has no room for a live event (its queue is
 * three quarters full, {@link FrameSink#hasRoomForLive}) or an event arrives before its predecessors (another pod
 * sequenced it): the store has every event the client missed, so a reader that is merely behind a fast turn is
 * paced from the store instead of being cut.
 * <p>
 * Bytes are paced like frames: a replay also waits for room after every quarter of the connection's byte budget it
 * sends, and a {@code history} reply holds at most {@code max-reply-bytes} of events and is read only once its
 * connection has at most half its budget in use ({@link #HISTORY_ROOM_TIMEOUT_MS}, else {@code rate_limited}).
 */
@ApplicationScoped
public class ReplayService {
    private static final Logger LOG = Logger.getLogger(ReplayService.class);
    static final int PAGE = 500;
    static final long HISTORY_ROOM_TIMEOUT_MS = 10_000;
    /** Events read from the store at a time while a history reply is filled up to its byte size. */
    private static final int HISTORY_READ = 100;
    /** The retry hint of a {@code history} refused because the client has not read its earlier replies. */
    static final long HISTORY_RETRY_MS = 1000;

    private final EventLog store;
    private final ReadGate gate;
    private final Executor blocking;
    private final GatewayMetrics metrics;
    private final Counter catchUpRounds;
    private final Counter gapCatchUps;
    private final Counter behindCatchUps;
    /** Subscriptions replaying or catching up from the store right now. */
    private final AtomicInteger replaying = new AtomicInteger();
    private final long roomTimeoutMillis;
    private final long maxReplyBytes;
    private final long historyRoomTimeoutMillis;

    @Inject
    public ReplayService(EventLog store, ReadGate gate, GatewayMetrics metrics, GatewayConfig config) {
        this(store, gate, metrics, Infrastructure.getDefaultWorkerPool(), config.limits().slowReaderTimeout().toMillis(),
                config.limits().maxReplyBytes(), HISTORY_ROOM_TIMEOUT_MS);
    }

    ReplayService(EventLog store, ReadGate gate, GatewayMetrics metrics, Executor blocking, long roomTimeoutMillis,
            long maxReplyBytes, long historyRoomTimeoutMillis) {
        this.store = store;
        this.gate = gate;
        this.blocking = blocking;
        this.metrics = metrics;
        this.catchUpRounds = metrics.replayCatchUpRounds;
        this.gapCatchUps = metrics.gapCatchUps;
        this.behindCatchUps = metrics.behindCatchUps;
        this.roomTimeoutMillis = roomTimeoutMillis;
        this.maxReplyBytes = maxReplyBytes;
        this.historyRoomTimeoutMillis = historyRoomTimeoutMillis;
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
        subscription.onGap((lastSent, newest, slowReader) -> {
            (slowReader ? behindCatchUps : gapCatchUps).increment();
            replaying.incrementAndGet();
            round(stream, subscription, lastSent, newest, null);
        });
        long boundary = stream.attach(subscription);
        if (boundary < 0) {
            throw ProtocolException.notFound("session", stream.sessionId());
        }
        if (afterSeq < 0 || afterSeq >= boundary) {
            // the client has everything up to afterSeq, which can be ahead of this pod's stream in a cluster (its
            // events still on their way here): none of those is sent again
            subscription.goLive(Math.max(boundary, afterSeq), subscribedFrame.apply(boundary));
            return;
        }
        replaying.incrementAndGet();
        round(stream, subscription, afterSeq, boundary, subscribedFrame);
    }

    /**
     * Waits up to {@code timeoutMillis} until no subscription is replaying or catching up from the store: the graceful
     * stop lets readers that are behind receive the last events (a turn's {@code turn_failed}) before it closes them.
     * Returns whether none is left.
     */
    public boolean awaitReplaysDone(long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (replaying.get() > 0) {
            if (System.currentTimeMillis() >= deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    /**
     * One replay round ({@code subscribedFrame} is null for a live subscription catching up after a gap): once every
     * event up to {@code boundary} is committed, sends {@code from < seq <= boundary}
     * and then goes live, or starts the next round up to the newest live event if live events had to be dropped.
     */
    private void round(SessionStream stream, Subscription subscription, long from, long boundary,
            LongFunction<String> subscribedFrame) {
        store.barrier().whenCompleteAsync((ignored, failure) -> {
            boolean continues = false;
            try {
                Replayed replayed = replay(stream, subscription, from, boundary);
                if (replayed == Replayed.STOPPED) {
                    return;
                }
                if (replayed == Replayed.NO_ROOM) {
                    subscription.overflow();
                    return;
                }
                if (replayed == Replayed.MISSING) {
                    if (stream.isStopped()) {
                        // deleted: the subscription is told by SessionStream.closeAll, never with subscribed
                        return;
                    }
                    subscription.goLive(boundary, subscribedFrame == null ? null : subscribedFrame.apply(boundary));
                    return;
                }
                long next = subscription.goLiveOrCatchUp(boundary, subscribedFrame);
                if (next < 0) {
                    return;
                }
                catchUpRounds.increment();
                continues = true;
                round(stream, subscription, boundary, next, subscribedFrame);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                LOG.errorf(e, "replay of session %s failed", stream.sessionId());
                stream.detach(subscription);
            } finally {
                if (!continues) {
                    replaying.decrementAndGet();
                }
            }
        }, blocking);
    }

    private enum Replayed {
        /** Every event up to the boundary was sent and the outbound queue is at most half full. */
        DONE,
        /** The subscription was closed. */
        STOPPED,
        /** The client left its outbound queue more than half full for the whole room timeout. */
        NO_ROOM,
        /** The store has no events where some were expected (the session was deleted meanwhile). */
        MISSING
    }

    private Replayed replay(SessionStream stream, Subscription subscription, long from, long boundary)
            throws InterruptedException {
        String sessionId = stream.sessionId();
        int pageSize = Subscription.pageSize(subscription.capacity());
        long bytesBetweenWaits = Subscription.bufferByteLimit(subscription.byteCapacity());
        while (true) {
            if (subscription.isClosed()) {
                return Replayed.STOPPED;
            }
            // also after the last page: the buffered live frames are sent next and must fit as well
            if (!subscription.awaitRoom(roomTimeoutMillis)) {
                return subscription.isClosed() ? Replayed.STOPPED : Replayed.NO_ROOM;
            }
            if (from >= boundary) {
                return Replayed.DONE;
            }
            List<StoredEvent> page = readPage(stream, subscription, from, boundary, pageSize);
            if (page == null) {
                return Replayed.STOPPED;
            }
            if (page.isEmpty()) {
                LOG.warnf("session %s: store has no events after seq %d up to %d", sessionId, from, boundary);
                return Replayed.MISSING;
            }
            long sent = 0;
            for (StoredEvent e : page) {
                if (sent >= bytesBetweenWaits) {
                    if (!subscription.awaitRoom(roomTimeoutMillis)) {
                        return subscription.isClosed() ? Replayed.STOPPED : Replayed.NO_ROOM;
                    }
                    sent = 0;
                }
                subscription.sendReplayed(e.frame(), e.seq());
                sent += utf8Length(e.frame());
            }
            from = page.get(page.size() - 1).seq();
        }
    }

    /**
     * A page of a replay, read in the tenant's and the connection's turn ({@link ReadGate}); when the reads stay busy
     * it tries again after a pause rather than failing the subscription. Null once the subscription is closed.
     */
    private List<StoredEvent> readPage(SessionStream stream, Subscription subscription, long from, long boundary,
            int pageSize) throws InterruptedException {
        while (!subscription.isClosed()) {
            try {
                final long after = from;
                return gate.read(stream.tenantId(), subscription.readSlots(),
                        () -> store.readEvents(stream.sessionId(), after, boundary, pageSize));
            } catch (ProtocolException | EventStore.ReadBusy busy) {
                LOG.debugf("replay of session %s waits for a read: %s", stream.sessionId(), busy.getMessage());
                Thread.sleep(ReadGate.RETRY_MS);
            }
        }
        return null;
    }

    /**
     * Reads up to {@code limit} events after {@code afterSeq}, consistent with the returned last seq, and fewer when
     * they would pass {@code max-reply-bytes} (at least one).
     */
    public CompletionStage<Page> history(SessionStream stream, long afterSeq, int limit) {
        return history(stream, null, afterSeq, limit);
    }

    /**
     * As {@link #history(SessionStream, long, int)}, for a reply to {@code sink}: the events are read once the sink
     * has at most half its capacity in use, waiting on a worker thread; if it does not drain within
     * {@link #HISTORY_ROOM_TIMEOUT_MS} the request fails with {@code rate_limited}. A client that does not read
     * thus holds at most its outbound budget, not one reply per request.
     */
    public CompletionStage<Page> history(SessionStream stream, FrameSink sink, long afterSeq, int limit) {
        long boundary = stream.lastSeq();
        CompletableFuture<Page> result = new CompletableFuture<>();
        store.barrier().whenCompleteAsync((ignored, failure) -> {
            try {
                if (sink != null && !sink.awaitRoom(historyRoomTimeoutMillis)) {
                    metrics.limitHit(GatewayMetrics.HISTORY_WAIT);
                    throw new ProtocolException(ErrorCode.RATE_LIMITED, "the connection has not read its earlier"
                            + " replies; read them before asking for more history", HISTORY_RETRY_MS);
                }
                List<StoredEvent> events = gate.read(stream.tenantId(), sink == null ? null : sink.readSlots(),
                        () -> read(stream.sessionId(), afterSeq, boundary, limit));
                if (stream.isStopped()) {
                    // deleted while waiting or reading: what was read may be cut short by the delete
                    throw ProtocolException.notFound("session", stream.sessionId());
                }
                result.complete(new Page(events, boundary));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                result.completeExceptionally(e);
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        }, blocking);
        return result;
    }

    /** Up to {@code limit} events, in reads of {@link #HISTORY_READ}, stopping before {@code maxReplyBytes}. */
    private List<StoredEvent> read(String sessionId, long afterSeq, long boundary, int limit) {
        List<StoredEvent> events = new ArrayList<>();
        long bytes = 0;
        long from = afterSeq;
        while (events.size() < limit) {
            int want = Math.min(HISTORY_READ, limit - events.size());
            List<StoredEvent> page = store.readEvents(sessionId, from, boundary, want);
            for (StoredEvent e : page) {
                bytes += utf8Length(e.frame()) + 1;
                if (bytes > maxReplyBytes && !events.isEmpty()) {
                    return events;
                }
                events.add(e);
            }
            if (page.size() < want) {
                break;
            }
            from = page.get(page.size() - 1).seq();
        }
        return events;
    }

    /** Bytes of {@code s} in UTF-8, without encoding it. */
    static long utf8Length(String s) {
        long n = s.length();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                // 2 bytes below U+0800, else 3; a surrogate pair (2 chars) is 4
                n += c < 0x800 || Character.isSurrogate(c) ? 1 : 2;
            }
        }
        return n;
    }
}

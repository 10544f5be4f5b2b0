package io.diminuendo.stream;

import java.util.ArrayDeque;
import java.util.concurrent.Semaphore;
import java.util.function.LongFunction;

import io.diminuendo.hub.Subscriber;
import io.diminuendo.protocol.ServerFrames;

/**
 * One connection's subscription to one session. While a replay runs it buffers live frames, at most
 * {@link #bufferLimit} events and {@link #bufferByteLimit} chars (a quarter of the sink's capacity and of its byte
 * capacity, what the sink can take at once after {@code awaitRoom}). When a live event would overflow that buffer, the subscription drops the buffered events and
 * is <em>behind</em>: it only notes the seq of the newest live event, and the replay catches up to it from the
 * store ({@link #goLiveOrCatchUp}) instead of cutting the client. Once a replay round ends and the subscription is
 * not behind, {@link #goLive} sends the {@code subscribed} reply and the buffered frames newer than the replay, and
 * from then on frames pass straight through. Frames at or below the last sent seq are never sent twice.
 */
public final class Subscription implements Subscriber {
    private final String sessionId;
    private final FrameSink sink;
    private final int bufferLimit;
    private final long bufferByteLimit;
    /** Live frames (frame, seq) while the replay runs; event frames only while not behind. */
    private ArrayDeque<Object> buffered = new ArrayDeque<>();
    private int bufferedEvents;
    private long bufferedChars;
    /** Live events were dropped since the replay's current boundary; the store has them. */
    private boolean behind;
    /** Seq of the newest live event delivered to this subscription, buffered or dropped. */
    private long newestSeq;
    private boolean live;
    private boolean closed;
    private long lastSentSeq;

    private final String requestId;
    /** Called, with the last seq sent and the seq that arrived, when a live event skips seqs. */
    private GapHandler gapHandler;
    /** Called once when the session ends the subscription (it was deleted), to free the connection's slot. */
    private Runnable onEnded;

    /**
     * Starts catching up from the store: events {@code lastSent < seq <= newest} are stored. {@code slowReader} tells
     * why: the client's queue was too full for live events, or (false) an event arrived before its predecessors.
     */
    interface GapHandler {
        void caughtBehind(long lastSent, long newest, boolean slowReader);
    }

    /** {@code requestId} is the id of the {@code subscribe} request (JSON text, may be null). */
    public Subscription(String sessionId, FrameSink sink, String requestId) {
        this.sessionId = sessionId;
        this.sink = sink;
        this.requestId = requestId;
        this.bufferLimit = bufferLimit(sink.capacity());
        this.bufferByteLimit = bufferByteLimit(sink.byteCapacity());
    }

    /**
     * Frames a replay sends between two waits for room. {@code awaitRoom} leaves at least half the outbound queue
     * free; a page must fit in it with a margin for the connection's other frames, or a small queue overflows on
     * the first page and the client is cut with 4009.
     */
    static int pageSize(int capacity) {
        return Math.min(ReplayService.PAGE, bufferLimit(capacity));
    }

    /** Live events buffered during a replay at most: like a page, they are sent at once after a wait for room. */
    static int bufferLimit(int capacity) {
        return Math.max(1, capacity / 4);
    }

    /** Bytes sent at once after a wait for room, by a replay or the live buffer (in chars there, as an estimate). */
    static long bufferByteLimit(long byteCapacity) {
        return Math.max(1, byteCapacity / 4);
    }

    /**
     * Closes the subscription; if its {@code subscribed} reply was not sent yet (a replay was still running),
     * the {@code subscribe} request is answered with {@code unsubscribed} and {@code reason} instead.
     */
    public synchronized void closeAnswering(String reason) {
        boolean unanswered = !live && !closed;
        closed = true;
        if (unanswered) {
            sink.send(ServerFrames.unsubscribed(requestId, sessionId, reason));
        }
    }

    public String sessionId() {
        return sessionId;
    }

    /** {@code onEnded} runs once if the session ends this subscription (see {@link #topicClosed}). */
    public synchronized void onEnded(Runnable onEnded) {
        this.onEnded = onEnded;
    }

    /**
     * The session was deleted: sends {@code unsubscribed} with {@code reason} (as the answer to the {@code subscribe}
     * request if its replay still runs, so the client never gets {@code subscribed} for it), stops a running replay
     * before its next event, drops the buffered frames and sends nothing more.
     */
    @Override
    public void topicClosed(String reason) {
        Runnable ended;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            buffered = null;
            sink.send(ServerFrames.unsubscribed(live ? null : requestId, sessionId, reason));
            ended = onEnded;
        }
        if (ended != null) {
            ended.run();
        }
    }

    @Override
    public synchronized void deliver(String frame, long seq) {
        if (closed) {
            return;
        }
        if (live) {
            if (gapHandler != null && seq > lastSentSeq) {
                // an event that another pod sequenced arrived before some of its predecessors (they are stored), or
                // the client is behind: its queue has no room for live events. Either way the store has them:
                // buffer from here on and replay from the store, paced by the client
                boolean gap = seq > lastSentSeq + 1;
                if (gap || !sink.hasRoomForLive(frame.length())) {
                    live = false;
                    buffered = new ArrayDeque<>();
                    bufferedEvents = 0;
                    bufferedChars = 0;
                    newestSeq = seq;
                    gapHandler.caughtBehind(lastSentSeq, seq, !gap);
                    return;
                }
            }
            sendInOrder(frame, seq);
            return;
        }
        newestSeq = seq;
        if (behind) {
            return;
        }
        if (bufferedEvents >= bufferLimit || bufferedChars + frame.length() > bufferByteLimit) {
            dropBufferedEvents();
            behind = true;
            return;
        }
        buffered.add(frame);
        buffered.add(seq);
        bufferedEvents++;
        bufferedChars += frame.length();
    }

    /** Drops the buffered events: the store has them, the replay sends them again. */
    private void dropBufferedEvents() {
        buffered.clear();
        bufferedEvents = 0;
        bufferedChars = 0;
    }

    synchronized void sendReplayed(String frame, long seq) {
        if (!closed) {
            sendInOrder(frame, seq);
        }
    }

    /**
     * Ends a replay round that sent every stored event up to {@code boundary}. If no live event was dropped
     * meanwhile, sends {@code subscribed} for {@code boundary} and the buffered live frames, goes live and returns
     * -1 (also when closed). Otherwise returns the seq of the newest live event delivered so far: the replay has
     * to continue up to it from the store, and live events above it are buffered afresh from now on.
     */
    synchronized long goLiveOrCatchUp(long boundary, LongFunction<String> subscribedFrame) {
        if (closed) {
            return -1;
        }
        if (!behind) {
            goLive(boundary, subscribedFrame == null ? null : subscribedFrame.apply(boundary));
            return -1;
        }
        behind = false;
        return Math.max(boundary, newestSeq);
    }

    /**
     * Sends {@code subscribedFrame} (unless null: a catch-up after a gap is not a new subscription) and whatever is
     * buffered, and switches to pass-through; the client has every event up to {@code boundary} by then.
     */
    synchronized void goLive(long boundary, String subscribedFrame) {
        if (closed) {
            return;
        }
        if (subscribedFrame != null) {
            sink.send(subscribedFrame);
        }
        lastSentSeq = Math.max(lastSentSeq, boundary);
        while (!buffered.isEmpty()) {
            String frame = (String) buffered.poll();
            long seq = (Long) buffered.poll();
            sendInOrder(frame, seq);
        }
        buffered = null;
        live = true;
    }

    private void sendInOrder(String frame, long seq) {
        if (seq != 0) {
            if (seq <= lastSentSeq) {
                return;
            }
            lastSentSeq = seq;
        }
        if (!sink.send(frame)) {
            closed = true;
        }
    }

    /** Where a live gap is reported; set before the subscription goes live. */
    synchronized void onGap(GapHandler handler) {
        this.gapHandler = handler;
    }

    /** The connection's share of store reads, or null. */
    Semaphore readSlots() {
        return sink.readSlots();
    }

    /** Frames the sink accepts before it overflows. */
    int capacity() {
        return sink.capacity();
    }

    long byteCapacity() {
        return sink.byteCapacity();
    }

    boolean awaitRoom(long timeoutMillis) throws InterruptedException {
        return sink.awaitRoom(timeoutMillis);
    }

    /** Stops sending and closes the connection as a slow consumer (4009); the client resumes with afterSeq. */
    synchronized void overflow() {
        if (!closed) {
            closed = true;
            sink.overflow();
        }
    }

    synchronized boolean isClosed() {
        return closed;
    }

    /** Stops all further sending; the owner also unsubscribes it from the hub. */
    public synchronized void close() {
        closed = true;
    }
}

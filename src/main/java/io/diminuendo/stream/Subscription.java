package io.diminuendo.stream;

import java.util.ArrayDeque;

import io.diminuendo.hub.Subscriber;
import io.diminuendo.protocol.ServerFrames;

/**
 * One connection's subscription to one session. While a replay runs it buffers live frames (bounded by the
 * sink's capacity); {@link #goLive} then sends the {@code subscribed} reply and the buffered frames newer than
 * the replay, and from then on frames pass straight through. Frames at or below the last sent seq are never
 * sent twice.
 */
public final class Subscription implements Subscriber {
    private final String sessionId;
    private final FrameSink sink;
    private ArrayDeque<Object> buffered = new ArrayDeque<>();
    private boolean live;
    private boolean closed;
    private long lastSentSeq;

    private final String requestId;

    /** {@code requestId} is the id of the {@code subscribe} request (JSON text, may be null). */
    public Subscription(String sessionId, FrameSink sink, String requestId) {
        this.sessionId = sessionId;
        this.sink = sink;
        this.requestId = requestId;
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

    @Override
    public synchronized void deliver(String frame, long seq) {
        if (closed) {
            return;
        }
        if (!live) {
            if (buffered.size() / 2 >= sink.capacity()) {
                closed = true;
                sink.overflow();
                return;
            }
            buffered.add(frame);
            buffered.add(seq);
            return;
        }
        sendInOrder(frame, seq);
    }

    synchronized void sendReplayed(String frame, long seq) {
        if (!closed) {
            sendInOrder(frame, seq);
        }
    }

    synchronized void goLive(String subscribedFrame) {
        if (closed) {
            return;
        }
        sink.send(subscribedFrame);
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

    /** Frames the sink accepts before it overflows. */
    int capacity() {
        return sink.capacity();
    }

    boolean awaitRoom(long timeoutMillis) throws InterruptedException {
        return sink.awaitRoom(timeoutMillis);
    }

    synchronized boolean isClosed() {
        return closed;
    }

    /** Stops all further sending; the owner also unsubscribes it from the hub. */
    public synchronized void close() {
        closed = true;
    }
}

package io.diminuendo.stream;

import java.util.ArrayDeque;

import io.diminuendo.hub.Subscriber;

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

    public Subscription(String sessionId, FrameSink sink) {
        this.sessionId = sessionId;
        this.sink = sink;
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

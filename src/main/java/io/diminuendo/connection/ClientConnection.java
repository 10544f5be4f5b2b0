package io.diminuendo.connection;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.jboss.logging.Logger;

import io.diminuendo.auth.Identity;
import io.diminuendo.hub.Subscriber;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.CloseCode;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.ServerFrames;
import io.diminuendo.stream.FrameSink;
import io.diminuendo.stream.Subscription;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.WebSocketConnection;
import io.vertx.core.buffer.Buffer;

/**
 * One client connection: its identity once authenticated, its subscriptions, and its bounded outbound queue.
 * {@code pending} counts frames queued in its {@link Outbox} or handed to the socket and not written yet; when it would pass the
 * capacity the client is not reading fast enough and is closed with 4009 (it resumes with {@code afterSeq}).
 */
public final class ClientConnection implements FrameSink {
    private static final Logger LOG = Logger.getLogger(ClientConnection.class);

    private final WebSocketConnection ws;
    private final Outbox outbox;
    private final GatewayMetrics metrics;
    private final int capacity;
    private final AtomicInteger pending = new AtomicInteger();
    private final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();
    private final Object roomSignal = new Object();
    private volatile int roomWaiters;
    private final Subscriber tenantSubscriber = (frame, seq) -> send(frame);
    private volatile Identity identity;
    private volatile boolean closing;
    long authTimer = -1;
    long expiryTimer = -1;
    boolean admitted;
    volatile long lastActivityNanos = System.nanoTime();
    private double tokens;
    private long refilledAtNanos = System.nanoTime();
    private int rejectedInRow;

    ClientConnection(WebSocketConnection ws, GatewayMetrics metrics, int capacity) {
        this.ws = ws;
        this.outbox = new Outbox(ws, this::written);
        this.metrics = metrics;
        this.capacity = capacity;
    }

    public String id() {
        return ws.id();
    }

    public Identity identity() {
        return identity;
    }

    void identity(Identity identity) {
        this.identity = identity;
    }

    /** Forwards the tenant topic's frames (tenant events) to this connection. */
    Subscriber tenantSubscriber() {
        return tenantSubscriber;
    }

    Map<String, Subscription> subscriptions() {
        return subscriptions;
    }

    WebSocketConnection ws() {
        return ws;
    }

    /** False when frames go through websockets-next's slower {@code sendText} (see {@link Outbox}). */
    boolean directWrites() {
        return outbox.direct();
    }

    @Override
    public boolean send(String frame) {
        if (closing) {
            return false;
        }
        if (pending.incrementAndGet() > capacity) {
            pending.decrementAndGet();
            overflow();
            return false;
        }
        outbox.offer(frame);
        return true;
    }

    /** Sends an {@code error} frame answering request {@code requestId} (null for none) and counts it. */
    void sendError(String requestId, ErrorCode code, String message) {
        metrics.error(code);
        send(ServerFrames.error(requestId, code, message));
    }

    private void written(int frames) {
        int left = pending.addAndGet(-frames);
        if (roomWaiters > 0 && left <= capacity / 2) {
            synchronized (roomSignal) {
                roomSignal.notifyAll();
            }
        }
    }

    @Override
    public void overflow() {
        if (!closing) {
            metrics.slowConsumerCloses.increment();
            LOG.debugf("connection %s closed as a slow consumer (%d frames pending)", id(), pending.get());
            close(CloseCode.SLOW_CONSUMER, true);
        }
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public boolean awaitRoom(long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        synchronized (roomSignal) {
            roomWaiters++;
            try {
                while (!closing && pending.get() > capacity / 2) {
                    long left = deadline - System.currentTimeMillis();
                    if (left <= 0) {
                        return false;
                    }
                    roomSignal.wait(Math.min(left, 50));
                }
            } finally {
                roomWaiters--;
            }
        }
        return !closing;
    }

    /**
     * Token bucket for inbound frames, called on the connection's event loop. Returns 0 when the frame may
     * proceed, otherwise the number of frames refused in a row (this one included).
     */
    int takeFrameToken(int perSecond, int burst) {
        long now = System.nanoTime();
        tokens = Math.min(burst, tokens + (now - refilledAtNanos) * perSecond / 1e9);
        refilledAtNanos = now;
        if (tokens >= 1) {
            tokens -= 1;
            rejectedInRow = 0;
            return 0;
        }
        return ++rejectedInRow;
    }

    void fillBucket(int burst) {
        tokens = burst;
    }

    /** Sends a ping (the sweeper's liveness check); a pong or any frame updates {@link #lastActivityNanos}. */
    void ping() {
        if (!closing) {
            ws.sendPing(Buffer.buffer()).subscribe().with(ok -> {
            }, failure -> {
            });
        }
    }

    public boolean isClosing() {
        return closing;
    }

    /** Sends the frames already queued, nothing more, and closes with {@code why}; idempotent. */
    public void close(CloseCode why) {
        close(why, false);
    }

    private void close(CloseCode why, boolean discardQueued) {
        if (closing) {
            return;
        }
        closing = true;
        outbox.close(new CloseReason(why.code(), why.reason()), discardQueued);
    }
}

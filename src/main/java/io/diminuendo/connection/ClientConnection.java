package io.diminuendo.connection;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

import org.jboss.logging.Logger;

import io.diminuendo.auth.Identity;
import io.diminuendo.hub.Subscriber;
import io.diminuendo.limits.TokenBucket;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.CloseCode;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.ServerFrames;
import io.diminuendo.stream.FrameSink;
import io.diminuendo.stream.Subscription;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelPipeline;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.WebSocketConnection;
import io.vertx.core.buffer.Buffer;

/**
 * One client connection: its identity once authenticated, its subscriptions, and its bounded outbound queue.
 * {@code queued} counts the frames, and their bytes on the wire, queued in its {@link Outbox} or handed to the socket
 * and not written yet; when a frame would pass the frame capacity, the byte budget or the process-wide
 * {@link OutboundBytes} budget, the client is not reading fast enough and is closed with 4009 (it resumes with
 * {@code afterSeq}). A frame shared with other connections counts in full for each.
 * <p>
 * Both counts live in one long (frames above bit {@value #FRAME_SHIFT}, bytes below), so a frame costs one atomic
 * step on the connection, as the frame count alone did; the shared total is touched only when the connection's bytes
 * cross one of its 4 KiB steps. The configuration keeps frames below 2<sup>20</sup> and bytes below 2<sup>36</sup>.
 */
public final class ClientConnection implements FrameSink {
    private static final Logger LOG = Logger.getLogger(ClientConnection.class);

    private final WebSocketConnection ws;
    private final Outbox outbox;
    private final GatewayMetrics metrics;
    private static final int FRAME_SHIFT = 40;
    private static final long ONE_FRAME = 1L << FRAME_SHIFT;
    private static final long BYTES = ONE_FRAME - 1;

    private final int capacity;
    private final long byteCapacity;
    private final OutboundBytes total;
    /** Frames (high bits) and bytes (low bits) queued and not yet written. */
    private final AtomicLong queued = new AtomicLong();
    private final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();
    /** Store reads this connection may have running at once ({@code reads-per-connection}). */
    private final Semaphore readSlots;
    private final HistoryRequests historyRequests = new HistoryRequests();
    private final Object roomSignal = new Object();
    private volatile int roomWaiters;
    private final Subscriber tenantSubscriber = (frame, seq) -> send(frame);
    private volatile Identity identity;
    private volatile boolean closing;
    long authTimer = -1;
    long expiryTimer = -1;
    boolean admitted;
    volatile long lastActivityNanos = System.nanoTime();
    /** When the sweeper pings this connection next ({@link ConnectionRegistry}); only the sweeper moves it. */
    long nextPingNanos;
    /** Inbound frames per second ({@link InboundLimits}); set as the connection opens, used on its event loop. */
    private TokenBucket frameRate;
    private int rejectedInRow;

    ClientConnection(WebSocketConnection ws, GatewayMetrics metrics, int capacity, long byteCapacity, OutboundBytes total,
            int readsAtOnce) {
        this.ws = ws;
        this.readSlots = new Semaphore(readsAtOnce, true);
        this.outbox = new Outbox(ws, this::written);
        this.metrics = metrics;
        this.capacity = capacity;
        this.byteCapacity = byteCapacity;
        this.total = total;
    }

    public String id() {
        return ws.id();
    }

    @Override
    public Semaphore readSlots() {
        return readSlots;
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

    HistoryRequests historyRequests() {
        return historyRequests;
    }

    WebSocketConnection ws() {
        return ws;
    }

    /** The Netty pipeline of the connection underneath, or null when it cannot be reached (see {@link Outbox}). */
    ChannelPipeline pipeline() {
        return outbox.pipeline();
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
        ByteBuf wire = outbox.wire(frame);
        // the fallback's frames are not encoded here: their length in chars stands in for their bytes
        long bytes = wire != null ? wire.readableBytes() : frame.length();
        long step = ONE_FRAME | bytes;
        long after = queued.addAndGet(step);
        long afterBytes = after & BYTES;
        boolean withinTotal = total.moved(afterBytes - bytes, afterBytes);
        if (after >>> FRAME_SHIFT > capacity || afterBytes > byteCapacity || !withinTotal) {
            long back = queued.addAndGet(-step) & BYTES;
            total.moved(back + bytes, back);
            if (wire != null) {
                wire.release();
            }
            if (!withinTotal) {
                metrics.limitHit(GatewayMetrics.OUTBOUND_BYTES_TOTAL);
            } else if (afterBytes > byteCapacity) {
                metrics.limitHit(GatewayMetrics.OUTBOUND_BYTES);
            }
            overflow();
            return false;
        }
        outbox.offer(wire, frame, bytes);
        return true;
    }

    /** Sends an {@code error} frame answering request {@code requestId} (null for none) and counts it. */
    void sendError(String requestId, ErrorCode code, String message) {
        metrics.error(code);
        send(ServerFrames.error(requestId, code, message));
    }

    void sendError(String requestId, ErrorCode code, String message, long retryAfterMs) {
        metrics.error(code);
        send(ServerFrames.error(requestId, code, message, retryAfterMs));
    }

    private void written(int frames, long bytes) {
        long left = queued.addAndGet(-((long) frames << FRAME_SHIFT | bytes));
        long leftBytes = left & BYTES;
        total.moved(leftBytes + bytes, leftBytes);
        if (roomWaiters > 0 && hasRoom(left)) {
            synchronized (roomSignal) {
                roomSignal.notifyAll();
            }
        }
    }

    @Override
    public void overflow() {
        if (!closing) {
            metrics.slowConsumerCloses.increment();
            long q = queued.get();
            LOG.debugf("connection %s closed as a slow consumer (%d frames, %d bytes pending)", id(), q >>> FRAME_SHIFT,
                    q & BYTES);
            close(CloseCode.SLOW_CONSUMER, true);
        }
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public long byteCapacity() {
        return byteCapacity;
    }

    /** At most half the frame capacity and half the byte budget in use. */
    @Override
    public boolean hasRoomForLive(int chars) {
        long q = queued.get();
        return !closing && q >>> FRAME_SHIFT < capacity - capacity / 4
                && (q & BYTES) + chars <= byteCapacity - byteCapacity / 4 && total.hasRoomForLive();
    }

    private boolean hasRoom(long q) {
        return q >>> FRAME_SHIFT <= capacity / 2 && (q & BYTES) <= byteCapacity / 2;
    }

    /** Bytes queued and not yet written. */
    long queuedBytes() {
        return queued.get() & BYTES;
    }

    @Override
    public boolean awaitRoom(long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        synchronized (roomSignal) {
            roomWaiters++;
            try {
                while (!closing && !hasRoom(queued.get())) {
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
    int takeFrameToken() {
        if (frameRate.tryTake(System.nanoTime())) {
            rejectedInRow = 0;
            return 0;
        }
        return ++rejectedInRow;
    }

    /** Milliseconds until the token bucket holds a whole token again (at least 1). */
    long millisUntilToken() {
        return frameRate.millisUntilToken();
    }

    void limitFrames(TokenBucket bucket) {
        frameRate = bucket;
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

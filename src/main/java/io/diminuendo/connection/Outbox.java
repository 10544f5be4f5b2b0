package io.diminuendo.connection;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jboss.logging.Logger;
import org.jctools.queues.atomic.unpadded.MpscUnboundedAtomicUnpaddedArrayQueue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.FastThreadLocalThread;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.WebSocketConnection;
import io.quarkus.websockets.next.runtime.WebSocketConnectionBase;
import io.vertx.core.http.WebSocketBase;
import io.vertx.core.http.impl.WebSocketImplBase;
import io.vertx.ext.web.impl.ServerWebSocketWrapper;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * A connection's outgoing text frames. Any thread may {@link #offer} a frame; the frames are written on the
 * connection's event loop in batches, with one flush per batch, and {@code written} is told how many frames,
 * and how many bytes, have left (or were dropped) once the socket took them.
 * <p>
 * websockets-next's {@code sendText} builds a Mutiny pipeline, captures the context and flushes the socket for
 * every single frame; profiles of a streaming turn showed that as the gateway's main cost. The outbox writes the
 * text frames straight to the Vert.x connection underneath the websockets-next one instead. That socket is not
 * public API, so it is reached by reflection once per connection; if that ever fails (a Quarkus upgrade), the
 * outbox falls back to {@code sendText}, frame by frame, and says so once in the log.
 */
@RegisterForReflection(targets = { WebSocketConnectionBase.class, ServerWebSocketWrapper.class }, methods = true,
        fields = true)
final class Outbox {
    private static final Logger LOG = Logger.getLogger(Outbox.class);
    private static final MethodHandle VERTX_SOCKET = accessor(WebSocketConnectionBase.class, "webSocket", false);
    /** vertx-web hands websockets-next a wrapper around the Vert.x core socket. */
    private static final MethodHandle WRAPPED_SOCKET = accessor(ServerWebSocketWrapper.class, "delegate", true);
    private static final AtomicBoolean FALLBACK_REPORTED = new AtomicBoolean();
    /** Slots per chunk of a connection's frame queue. */
    private static final int FRAME_QUEUE_CHUNK = 64;
    /** Frames written per turn of the event loop before it yields to other work. */
    private static final int BATCH = 1024;
    /** Larger frames are encoded for each connection rather than kept by the thread for the next one. */
    private static final int MAX_REMEMBERED_BYTES = 64 * 1024;
    private static final FastThreadLocal<LastEncoded> LAST_ENCODED = new FastThreadLocal<>() {
        @Override
        protected LastEncoded initialValue() {
            return new LastEncoded();
        }
    };

    private final WebSocketConnection ws;
    private final WebSocketBase socket;
    private final ConnectionBase conn;
    private final ChannelHandlerContext ctx;
    private final EventLoop loop;
    private final Written written;
    private final Queue<ByteBuf> frames = newFrameQueue();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Runnable drain = this::drain;
    private volatile CloseReason closeReason;
    private volatile boolean discard;
    private boolean closeSent;

    /** Told of frames that were written or dropped: their number and their bytes as {@link #wire} measured them. */
    @FunctionalInterface
    interface Written {
        void written(int frames, long bytes);
    }

    Outbox(WebSocketConnection ws, Written written) {
        this.ws = ws;
        this.written = written;
        WebSocketBase s = vertxSocket(ws);
        if (s instanceof WebSocketImplBase<?> impl && impl.connection() instanceof ConnectionBase c) {
            this.socket = s;
            this.conn = c;
            this.ctx = writeContext(c.channelHandlerContext());
            this.loop = c.channel().eventLoop();
        } else {
            this.socket = null;
            this.conn = null;
            this.ctx = null;
            this.loop = null;
            if (FALLBACK_REPORTED.compareAndSet(false, true)) {
                LOG.warnf("outbound frames are written one by one through WebSocketConnection.sendText (socket %s)", s);
            }
        }
    }

    /**
     * Where the outbox writes: the context of Vert.x's idle-timeout handler when there is one between the connection's
     * handler and the head of the pipeline, so that frames enter the pipeline below it. That handler
     * ({@code quarkus.http.idle-timeout}) turns every void write promise into a real one and listens to it, to note
     * the time of the last write: a promise, a listener and a notification per frame, a fifth of the gateway's
     * samples when 100 subscribers stream. A WebSocket does not need it to see writes: the gateway pings every
     * connection each {@code ping-interval} and the pongs are reads, which it still sees.
     */
    static ChannelHandlerContext writeContext(ChannelHandlerContext handler) {
        ChannelPipeline pipeline = handler.pipeline();
        ChannelHandlerContext idle = pipeline.context(IdleStateHandler.class);
        if (idle == null) {
            return handler;
        }
        List<String> names = pipeline.names();
        int idleAt = names.indexOf(idle.name());
        int handlerAt = names.indexOf(handler.name());
        return idleAt >= 0 && idleAt < handlerAt ? idle : handler;
    }

    /**
     * Many producers (event loops, the writer, replay workers), one consumer (the connection's event loop): a JCTools
     * MPSC queue stores frames in chunks instead of a node per frame. Unbounded (the connection's {@code pending}
     * count is the bound); small chunks, because every idle connection holds one (Netty's default of 1,024 slots
     * would add 4 KiB to each); and unpadded: the padding that keeps a busy queue's indexes on cache lines of their
     * own made the queue object alone 576 bytes, on every connection. The variant on field updaters rather than
     * {@code Unsafe} offsets, which a native image would have to recompute.
     */
    static Queue<ByteBuf> newFrameQueue() {
        return new MpscUnboundedAtomicUnpaddedArrayQueue<>(FRAME_QUEUE_CHUNK);
    }

    /** The Netty pipeline of the connection underneath; null in the fallback. */
    ChannelPipeline pipeline() {
        return ctx == null ? null : ctx.pipeline();
    }

    /** True when frames are written in batches straight to the Vert.x connection (false: the fallback). */
    boolean direct() {
        return conn != null;
    }

    /**
     * The frame's bytes on the wire, to measure and then {@link #offer}; null when frames go through
     * {@code sendText} (the fallback), whose bytes are not known.
     */
    ByteBuf wire(String frame) {
        return conn == null ? null : wireFrame(frame);
    }

    /**
     * Queues a frame, as {@code wire} (from {@link #wire}) or, in the fallback, as {@code text}; it is written in
     * order with every frame offered before it. {@code bytes} is what {@code written} is told for it in the fallback.
     */
    void offer(ByteBuf wire, String text, long bytes) {
        if (wire == null) {
            ws.sendText(text).subscribe().with(ok -> written.written(1, bytes), failure -> written.written(1, bytes));
            return;
        }
        frames.offer(wire);
        schedule();
    }

    /**
     * Closes the socket with {@code reason} after the frames already offered, or, with {@code discardQueued},
     * drops those that are not written yet (a slow consumer resumes from its last seq anyway).
     */
    void close(CloseReason reason, boolean discardQueued) {
        if (conn == null) {
            closeSocket(reason);
            return;
        }
        closeReason = reason;
        discard = discardQueued;
        schedule();
    }

    private void schedule() {
        if (!scheduled.get() && scheduled.compareAndSet(false, true)) {
            loop.execute(drain);
        }
    }

    /**
     * On the event loop: writes the queued frames (at most {@link #BATCH}, then it yields to the loop and comes
     * back), the last one with a promise that reports the whole batch as written, then flushes once.
     */
    private void drain() {
        scheduled.set(false);
        int count = 0;
        long bytes = 0;
        int dropped = 0;
        long droppedBytes = 0;
        boolean open = !closeSent && !discard && !socket.isClosed();
        ByteBuf frame = frames.poll();
        while (frame != null) {
            ByteBuf next = count < BATCH ? frames.poll() : null;
            int size = frame.readableBytes();
            if (!open) {
                frame.release();
                dropped++;
                droppedBytes += size;
            } else if (next == null) {
                int batch = ++count;
                long batchBytes = bytes + size;
                ChannelPromise promise = ctx.newPromise();
                promise.addListener(f -> written.written(batch, batchBytes));
                ctx.write(frame, promise);
            } else {
                count++;
                bytes += size;
                ctx.write(frame, conn.voidPromise);
            }
            frame = next;
        }
        if (count > 0) {
            ctx.flush();
        }
        if (dropped > 0) {
            written.written(dropped, droppedBytes);
        }
        if (!frames.isEmpty()) {
            schedule();
            return;
        }
        CloseReason reason = closeReason;
        if (reason != null && !closeSent) {
            closeSent = true;
            closeSocket(reason);
        }
    }

    private void closeSocket(CloseReason reason) {
        ws.close(reason).subscribe().with(ok -> {
        }, failure -> LOG.debugf("close of %s failed: %s", ws.id(), failure.getMessage()));
    }

    /**
     * The frame as bytes on the wire: an unmasked, final text frame. A server's frames are the same for every
     * client, so a frame fanned out to many connections is encoded once, by the publishing thread, and shared
     * (an event loop remembers the last frame it encoded); each connection writes its own view of the bytes
     * straight past the WebSocket encoder.
     */
    private static ByteBuf wireFrame(String text) {
        if (!(Thread.currentThread() instanceof FastThreadLocalThread)) {
            // worker threads (replay) send to one connection, and come and go: nothing to share, nothing to keep
            return encode(text);
        }
        return shared(text);
    }

    /** The wire frame of {@code text}, taken from this thread's last encoding when it is the same string. */
    static ByteBuf shared(String text) {
        LastEncoded last = LAST_ENCODED.get();
        if (last.text == text) {
            return last.bytes.retainedDuplicate();
        }
        ByteBuf bytes = encode(text);
        if (last.bytes != null) {
            last.bytes.release();
            last.bytes = null;
            last.text = null;
        }
        if (bytes.readableBytes() <= MAX_REMEMBERED_BYTES) {
            last.text = text;
            last.bytes = bytes.retainedDuplicate();
        }
        return bytes;
    }

    /**
     * The JDK encodes a string to UTF-8 in bulk (an ASCII string is copied, not examined a character at a time as
     * Netty's writer does), and the bytes are then copied into a pooled direct buffer behind the frame header.
     */
    static ByteBuf encode(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        int length = utf8.length;
        int header = length < 126 ? 2 : length <= 0xFFFF ? 4 : 10;
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(header + length);
        buf.writeByte(0x81); // FIN, text
        if (length < 126) {
            buf.writeByte(length);
        } else if (length <= 0xFFFF) {
            buf.writeByte(126);
            buf.writeShort(length);
        } else {
            buf.writeByte(127);
            buf.writeLong(length);
        }
        buf.writeBytes(utf8);
        return buf;
    }

    private static final class LastEncoded {
        String text;
        ByteBuf bytes;
    }

    private static WebSocketBase vertxSocket(WebSocketConnection ws) {
        if (VERTX_SOCKET == null) {
            return null;
        }
        try {
            Object socket = VERTX_SOCKET.invoke(ws);
            if (WRAPPED_SOCKET != null && socket instanceof ServerWebSocketWrapper) {
                socket = WRAPPED_SOCKET.invoke(socket);
            }
            return (WebSocketBase) socket;
        } catch (Throwable e) {
            LOG.debugf("cannot reach the socket of connection %s: %s", ws.id(), e);
            return null;
        }
    }

    private static MethodHandle accessor(Class<?> owner, String member, boolean field) {
        try {
            if (field) {
                Field f = owner.getDeclaredField(member);
                f.setAccessible(true);
                return MethodHandles.lookup().unreflectGetter(f);
            }
            Method m = owner.getDeclaredMethod(member);
            m.setAccessible(true);
            return MethodHandles.lookup().unreflect(m);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warnf("websockets-next/Vert.x internals changed (%s.%s: %s)", owner.getName(), member, e);
            return null;
        }
    }
}

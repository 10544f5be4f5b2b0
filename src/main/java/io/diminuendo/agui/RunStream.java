package io.diminuendo.agui;

import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.protocol.EventKind;
import io.diminuendo.protocol.Json;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.stream.FrameSink;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * The HTTP side of one AG-UI run: its response, first an error or the SSE stream, and the bounded queue through
 * which the session's events reach it. As a {@link FrameSink} it is what a {@code Subscription} writes to, exactly
 * like a WebSocket connection: when it has no room for live events the subscription falls behind and catches up
 * from the store at the pace this response is read, so nothing is buffered without bound and nothing is lost.
 * <p>
 * The frames are drained on the request's event loop: each is parsed, events of other turns are skipped, the
 * {@link RunTranslator} turns the rest into AG-UI events, written as {@code data: <json>} lines with a blank line
 * after each (LF only). Writing stops while the socket's write queue is full and goes on when it drains. Every
 * field below without a note is only touched on that event loop.
 */
final class RunStream implements FrameSink {
    private static final Logger LOG = Logger.getLogger(RunStream.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Frames handled per turn of the event loop before it yields to other work. */
    private static final int BATCH = 256;
    static final String KEEP_ALIVE = ": keep-alive\n\n";

    /** What the run's owner hears; called on the request's event loop. */
    interface Listener {
        /**
         * The client went away before the run's terminal event. Returns true when the owner cancelled the turn: the
         * stream then reads on, writing nothing, until the turn's terminal event (or {@code settleTimeoutMs}).
         */
        boolean disconnected(RunStream run);

        /** The run is over, once, with the outcome it had; after a refusal (nothing started) not at all. */
        void ended(RunStream run, RunTranslator.Outcome outcome);
    }

    private final HttpServerRequest request;
    private final HttpServerResponse response;
    private final Context context;
    private final Vertx vertx;
    private final String allowedOrigin;
    private final int capacity;
    private final long byteCapacity;
    /** The run's share of store reads, like a connection's ({@code reads-per-connection}). */
    private final Semaphore readSlots;
    private final long keepAliveMs;
    private final long settleTimeoutMs;
    private final Listener listener;

    /** Any thread: frames queued by the subscription, and their number and chars. */
    private final Queue<String> frames = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queuedFrames = new AtomicInteger();
    private final AtomicLong queuedChars = new AtomicLong();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Object room = new Object();
    /** Any thread: no more frames are wanted (the run is over). */
    private volatile boolean finished;
    /** Completes when the client goes away before the run is over; the owner waits on it. */
    private final CompletableFuture<Void> gone = new CompletableFuture<>();
    /** Completes when the run is over, whatever the outcome; a new run waiting for this one waits on it. */
    private final CompletableFuture<Void> over = new CompletableFuture<>();

    private String turnId;
    private RunTranslator translator;
    private boolean started;
    /** The client left and the turn was cancelled for it: frames are read until the turn's terminal event. */
    private boolean settling;
    /** The gateway gave up on the client before the run started ({@link #overflow}): the run fails as it starts. */
    private String[] failedBeforeStart;
    private long keepAliveTimer = -1;
    private long settleTimer = -1;

    RunStream(HttpServerRequest request, Vertx vertx, String allowedOrigin, int capacity, long byteCapacity,
            int readsAtOnce, long keepAliveMs, long settleTimeoutMs, Listener listener) {
        this.request = request;
        this.response = request.response();
        this.context = vertx.getOrCreateContext();
        this.vertx = vertx;
        this.allowedOrigin = allowedOrigin;
        this.capacity = capacity;
        this.byteCapacity = byteCapacity;
        this.readSlots = new Semaphore(readsAtOnce, true);
        this.keepAliveMs = keepAliveMs;
        this.settleTimeoutMs = settleTimeoutMs;
        this.listener = listener;
        response.closeHandler(v -> clientGone());
        response.exceptionHandler(failure -> clientGone());
    }

    /** Completes when the client has gone away (before the run was over). */
    CompletableFuture<Void> gone() {
        return gone;
    }

    /** Completes when the run is over. */
    CompletableFuture<Void> over() {
        return over;
    }

    /** The turn this run streams, once started; null before. */
    String turnId() {
        return turnId;
    }

    /**
     * Answers the request with {@code 200} and {@code RUN_STARTED} and streams the events of turn {@code turnId} from
     * the queue. Any thread. If the client has gone away already, nothing is written and the listener hears
     * {@link Listener#disconnected} at once.
     */
    void start(String turnId, RunTranslator translator) {
        context.runOnContext(v -> {
            this.turnId = turnId;
            this.translator = translator;
            this.started = true;
            if (gone.isDone()) {
                disconnected();
                return;
            }
            response.setStatusCode(200).setChunked(true).putHeader("Content-Type", "text/event-stream")
                    .putHeader("Cache-Control", "no-cache");
            cors(response, allowedOrigin);
            StringBuilder first = new StringBuilder(256);
            translator.start(json -> sse(first, json));
            response.write(first.toString());
            if (failedBeforeStart != null) {
                failRun(failedBeforeStart[0], failedBeforeStart[1]);
                return;
            }
            keepAliveTimer = vertx.setPeriodic(keepAliveMs, id -> keepAlive());
            drain();
        });
    }

    /** Answers the request with the error's status and {@code {code, message}}; nothing is streamed. Any thread. */
    void refuse(ProtocolException error) {
        context.runOnContext(v -> {
            if (started || finished) {
                return;
            }
            finished = true;
            wakeRoomWaiters();
            if (!gone.isDone()) {
                respondError(response, allowedOrigin, error);
            }
            over.complete(null);
        });
    }

    /** Writes an error answer: the status of its code, {@code {code, message}} and the CORS headers. */
    static void respondError(HttpServerResponse response, String allowedOrigin, ProtocolException error) {
        Json.Obj body = Json.obj().str("code", error.code().wire()).str("message", error.getMessage());
        if (error.retryAfterMs() >= 0) {
            body.num("retryAfterMs", error.retryAfterMs());
            response.putHeader("Retry-After", Long.toString(Math.max(1, (error.retryAfterMs() + 999) / 1000)));
        }
        response.setStatusCode(error.code().httpStatus()).putHeader("Content-Type", "application/json");
        cors(response, allowedOrigin);
        response.end(body.end());
    }

    /** The CORS answer for an origin that may call the endpoint (null: no {@code Origin}, nothing to add). */
    static void cors(HttpServerResponse response, String allowedOrigin) {
        if (allowedOrigin != null) {
            response.putHeader("Access-Control-Allow-Origin", allowedOrigin).putHeader("Vary", "Origin");
        }
    }

    // --- FrameSink: called by the subscription on publishing threads and replay workers

    @Override
    public Semaphore readSlots() {
        return readSlots;
    }

    @Override
    public boolean send(String frame) {
        if (finished) {
            return false;
        }
        int n = queuedFrames.incrementAndGet();
        long chars = queuedChars.addAndGet(frame.length());
        if (n > capacity || chars > byteCapacity) {
            queuedFrames.decrementAndGet();
            queuedChars.addAndGet(-frame.length());
            overflow();
            return false;
        }
        frames.offer(frame);
        if (scheduled.compareAndSet(false, true)) {
            context.runOnContext(v -> drain());
        }
        return true;
    }

    @Override
    public boolean hasRoomForLive(int chars) {
        return !finished && queuedFrames.get() < capacity - capacity / 4
                && queuedChars.get() + chars <= byteCapacity - byteCapacity / 4;
    }

    /** The client has read nothing for too long (or the queue overflowed): the run ends with {@code RUN_ERROR}. */
    @Override
    public void overflow() {
        context.runOnContext(v -> failRun("slow_consumer", "the client did not read the stream for too long"));
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public long byteCapacity() {
        return byteCapacity;
    }

    @Override
    public boolean awaitRoom(long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        synchronized (room) {
            while (!finished && !hasRoom()) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    return false;
                }
                room.wait(Math.min(left, 50));
            }
        }
        return !finished;
    }

    private boolean hasRoom() {
        return queuedFrames.get() <= capacity / 2 && queuedChars.get() <= byteCapacity / 2;
    }

    private void wakeRoomWaiters() {
        synchronized (room) {
            room.notifyAll();
        }
    }

    // --- on the event loop

    private void drain() {
        scheduled.set(false);
        if (!started || finished) {
            return;
        }
        if (!settling && response.writeQueueFull()) {
            response.drainHandler(v -> drain());
            return;
        }
        StringBuilder out = new StringBuilder(1024);
        int handled = 0;
        String frame;
        while (!finished && !translator.isEnded() && handled < BATCH && (frame = frames.poll()) != null) {
            handled++;
            queuedFrames.decrementAndGet();
            queuedChars.addAndGet(-frame.length());
            handle(frame, out);
        }
        if (handled > 0 && hasRoom()) {
            wakeRoomWaiters();
        }
        if (out.length() > 0 && !settling) {
            response.write(out.toString());
        }
        if (translator.isEnded() && !finished) {
            end(translator.outcome());
            return;
        }
        if (!finished && !frames.isEmpty() && scheduled.compareAndSet(false, true)) {
            if (!settling && response.writeQueueFull()) {
                scheduled.set(false);
                response.drainHandler(v -> drain());
            } else {
                context.runOnContext(v -> drain());
            }
        }
    }

    private void handle(String frame, StringBuilder out) {
        JsonNode root;
        try {
            root = JSON.readTree(frame);
        } catch (Exception e) {
            LOG.errorf("run %s: a frame of the session stream is not JSON; skipped", turnId);
            return;
        }
        String type = root.path("type").asText();
        if ("unsubscribed".equals(type)) {
            // the session's stream ended under the subscription: it was deleted
            if (settling) {
                end(RunTranslator.Outcome.DISCONNECTED);
            } else {
                translator.fail("session_deleted", "the session was deleted while the run streamed", json -> sse(out, json));
            }
            return;
        }
        if (!"event".equals(type) || !turnId.equals(root.path("turnId").asText())) {
            return;
        }
        EventKind kind = EventKind.fromWire(root.path("kind").asText());
        if (kind == null) {
            return;
        }
        if (settling) {
            if (kind.isTerminal()) {
                end(RunTranslator.Outcome.DISCONNECTED);
            }
            return;
        }
        translator.accept(kind, root.path("seq").asLong(), root.path("ts").asLong(), root.path("data"),
                json -> sse(out, json));
    }

    private static void sse(StringBuilder out, String json) {
        out.append("data: ").append(json).append("\n\n");
    }

    private void keepAlive() {
        if (!finished && !settling && !response.writeQueueFull()) {
            response.write(KEEP_ALIVE);
        }
    }

    /** The gateway ends a streaming run with {@code RUN_ERROR}, the connection closed after it. */
    private void failRun(String code, String message) {
        if (finished) {
            return;
        }
        if (!started) {
            failedBeforeStart = new String[] { code, message };
            return;
        }
        if (settling) {
            end(RunTranslator.Outcome.DISCONNECTED);
            return;
        }
        StringBuilder out = new StringBuilder(256);
        translator.fail(code, message, json -> sse(out, json));
        response.write(out.toString());
        end(translator.outcome());
        request.connection().close();
    }

    private void clientGone() {
        if (finished || gone.isDone()) {
            return;
        }
        gone.complete(null);
        if (started) {
            disconnected();
        }
    }

    /** The client left a started run before its end: the owner may cancel the turn and have it read to the end. */
    private void disconnected() {
        cancelKeepAlive();
        if (listener.disconnected(this)) {
            settling = true;
            settleTimer = vertx.setTimer(Math.max(1, settleTimeoutMs), id -> end(RunTranslator.Outcome.DISCONNECTED));
            drain();
        } else {
            end(RunTranslator.Outcome.DISCONNECTED);
        }
    }

    private void end(RunTranslator.Outcome outcome) {
        if (finished) {
            return;
        }
        finished = true;
        cancelKeepAlive();
        if (settleTimer >= 0) {
            vertx.cancelTimer(settleTimer);
        }
        frames.clear();
        wakeRoomWaiters();
        if (!settling && !gone.isDone()) {
            response.end();
        }
        try {
            listener.ended(this, outcome);
        } finally {
            over.complete(null);
        }
    }

    private void cancelKeepAlive() {
        if (keepAliveTimer >= 0) {
            vertx.cancelTimer(keepAliveTimer);
            keepAliveTimer = -1;
        }
    }
}

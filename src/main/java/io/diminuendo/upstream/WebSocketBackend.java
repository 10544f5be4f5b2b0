package io.diminuendo.upstream;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.jboss.logging.Logger;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.Json;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;

/**
 * A backend speaking the agent backend protocol (docs/protocol.md, "`websocket` backends") over one multiplexed WebSocket. Every turn in flight is keyed by its turn
 * id. The connection is watched by pings: any frame counts as a sign of life, and two heartbeat intervals of
 * silence count as a lost connection. When the connection is lost, every turn on it ends with
 * {@code turn_failed} code {@code backend_lost}, new turns are refused ({@code unavailable}) and the backend
 * reconnects with exponential backoff and full jitter. All socket handling runs on one event-loop context.
 */
public final class WebSocketBackend implements AgentBackend, Backends.Startable {
    private static final Logger LOG = Logger.getLogger(WebSocketBackend.class);
    /** Upper bound of the history part of a start_turn frame, in characters of JSON. */
    static final int HISTORY_BUDGET_CHARS = 128 * 1024;

    private final String name;
    private final GatewayConfig.Backend config;
    private final Vertx vertx;
    private final Context context;
    private final WebSocketClient client;
    private final WebSocketConnectOptions connectOptions;
    private final Map<String, RemoteTurn> turns = new ConcurrentHashMap<>();
    private final Counter malformed;
    private final Counter unknownTurn;
    private final Counter reconnects;
    private final long heartbeatMs;
    private volatile WebSocket socket;
    private volatile double latencyMs = -1;
    private volatile long checkedAt;
    private long lastFrameNanos;
    private long heartbeatTimer = -1;
    private int failures;
    private boolean closed;

    public WebSocketBackend(String name, GatewayConfig.Backend config, Vertx vertx, GatewayMetrics metrics) {
        this.name = name;
        this.config = config;
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        String url = config.url().orElseThrow(() -> new IllegalStateException(
                "diminuendo.backends." + name + ".url is required for a websocket backend"));
        this.client = vertx.createWebSocketClient(new WebSocketClientOptions()
                .setConnectTimeout((int) config.connectTimeout().toMillis())
                .setMaxMessageSize(16 * 1024 * 1024)
                .setMaxFrameSize(64 * 1024));
        this.connectOptions = new WebSocketConnectOptions().setAbsoluteURI(url);
        config.apiKey().ifPresent(key -> connectOptions.addHeader("Authorization", "Bearer " + key));
        this.heartbeatMs = config.heartbeatInterval().toMillis();
        this.malformed = metrics.counter("diminuendo.backend.frames.malformed", "Backend frames that could not be decoded", "backend", name);
        this.unknownTurn = metrics.counter("diminuendo.backend.frames.orphaned", "Backend frames for turns no longer in flight", "backend", name);
        this.reconnects = metrics.counter("diminuendo.backend.reconnects", "Connection attempts after a failure or loss", "backend", name);
    }

    @Override
    public void start() {
        context.runOnContext(v -> connect());
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean isUp() {
        return socket != null;
    }

    @Override
    public double latencyMs() {
        return latencyMs;
    }

    @Override
    public long checkedAt() {
        return checkedAt;
    }

    private void connect() {
        if (closed) {
            return;
        }
        client.connect(connectOptions).onComplete(ar -> {
            if (ar.failed()) {
                LOG.debugf("backend %s: connect failed: %s", name, ar.cause().getMessage());
                scheduleReconnect();
                return;
            }
            WebSocket ws = ar.result();
            if (closed) {
                ws.close();
                return;
            }
            failures = 0;
            lastFrameNanos = System.nanoTime();
            checkedAt = System.currentTimeMillis();
            ws.textMessageHandler(text -> onFrame(ws, text));
            ws.pongHandler(data -> onPong(data));
            ws.closeHandler(v -> lost(ws, "the backend closed the connection"));
            ws.exceptionHandler(e -> lost(ws, "connection error: " + e.getMessage()));
            socket = ws;
            heartbeatTimer = vertx.setPeriodic(heartbeatMs, id -> heartbeat(ws));
            LOG.infof("backend %s connected", name);
        });
    }

    private void scheduleReconnect() {
        if (closed) {
            return;
        }
        long min = config.reconnectMin().toMillis();
        long max = config.reconnectMax().toMillis();
        long ceiling = Math.min(max, min << Math.min(failures, 20));
        failures++;
        long delay = Math.max(1, ThreadLocalRandom.current().nextLong(ceiling / 2, ceiling + 1));
        reconnects.increment();
        vertx.setTimer(delay, id -> context.runOnContext(v -> connect()));
    }

    private void heartbeat(WebSocket ws) {
        if (socket != ws) {
            return;
        }
        if (System.nanoTime() - lastFrameNanos > TimeUnit.MILLISECONDS.toNanos(2 * heartbeatMs)) {
            lost(ws, "no frame from the backend for " + 2 * heartbeatMs + " ms");
            ws.close();
            return;
        }
        ws.writePing(Buffer.buffer().appendLong(System.nanoTime()));
    }

    private void onPong(Buffer data) {
        lastFrameNanos = System.nanoTime();
        checkedAt = System.currentTimeMillis();
        if (data.length() == 8) {
            latencyMs = (System.nanoTime() - data.getLong(0)) / 1_000_000.0;
        }
    }

    /** Ends every turn on the lost connection and starts reconnecting; runs once per connection. */
    private void lost(WebSocket ws, String reason) {
        if (socket != ws) {
            return;
        }
        socket = null;
        vertx.cancelTimer(heartbeatTimer);
        LOG.warnf("backend %s lost: %s; %d turns in flight end with backend_lost", name, reason, turns.size());
        for (RemoteTurn t : turns.values()) {
            t.sink.emit(new BackendEvent.Error("backend_lost", "the connection to agent backend '" + name
                    + "' was lost (" + reason + "); send the message again once it is back"));
        }
        turns.clear();
        scheduleReconnect();
    }

    private void onFrame(WebSocket ws, String text) {
        lastFrameNanos = System.nanoTime();
        String turnId;
        BackendEvent event;
        try {
            BackendEventCodec.Frame frame = BackendEventCodec.decodeFrame(text);
            turnId = frame.turnId();
            event = frame.event();
        } catch (Exception e) {
            malformed.increment();
            return;
        }
        RemoteTurn turn = turns.get(turnId);
        if (turn == null || turn.sink.isEnded()) {
            if (turn != null) {
                turns.remove(turnId);
            }
            unknownTurn.increment();
            return;
        }
        boolean more = turn.sink.emit(event);
        if (event.endsTurn() || turn.sink.isEnded()) {
            turns.remove(turnId);
        }
        if (!more) {
            ws.pause();
            turn.sink.whenReady(() -> context.runOnContext(v -> ws.resume()));
        }
    }

    @Override
    public TurnHandle start(TurnRequest request, TurnSink sink) {
        WebSocket ws = socket;
        RemoteTurn turn = new RemoteTurn(request.turnId(), sink);
        if (ws == null) {
            sink.emit(new BackendEvent.Error("backend_lost", "agent backend '" + name + "' is not connected"));
            return turn;
        }
        turns.put(request.turnId(), turn);
        String history = historyWithinBudget(request.history());
        send(ws, Json.obj().str("op", "start_turn").str("turnId", request.turnId()).str("sessionId", request.sessionId())
                .str("tenantId", request.tenantId()).str("userId", request.userId())
                .raw("input", Json.obj().str("text", request.text()).end()).raw("history", history).end());
        return turn;
    }

    /**
     * The newest history messages whose JSON fits in {@link #HISTORY_BUDGET_CHARS}, oldest first: the start_turn
     * frame stays well inside the message limits of WebSocket servers (Vert.x accepts 256 KiB by default).
     */
    static String historyWithinBudget(List<TurnRequest.HistoryMessage> messages) {
        ArrayDeque<String> kept = new ArrayDeque<>();
        int size = 2;
        for (int i = messages.size() - 1; i >= 0; i--) {
            TurnRequest.HistoryMessage m = messages.get(i);
            String json = Json.obj().str("role", m.role()).str("text", m.text()).end();
            if (size + json.length() + 1 > HISTORY_BUDGET_CHARS) {
                break;
            }
            kept.addFirst(json);
            size += json.length() + 1;
        }
        return "[" + String.join(",", kept) + "]";
    }

    private void send(WebSocket ws, String frame) {
        ws.writeTextMessage(frame).onFailure(e -> LOG.debugf("backend %s: write failed: %s", name, e.getMessage()));
    }

    @Override
    public void close() {
        context.runOnContext(v -> {
            closed = true;
            WebSocket ws = socket;
            socket = null;
            if (ws != null) {
                ws.close();
            }
        });
    }

    private final class RemoteTurn implements TurnHandle {
        final String turnId;
        final TurnSink sink;

        RemoteTurn(String turnId, TurnSink sink) {
            this.turnId = turnId;
            this.sink = sink;
        }

        @Override
        public void cancel() {
            WebSocket ws = socket;
            if (turns.remove(turnId) != null && ws != null) {
                send(ws, Json.obj().str("op", "cancel_turn").str("turnId", turnId).end());
            }
        }

        @Override
        public void permissionDecision(String requestId, String decision) {
            WebSocket ws = socket;
            if (ws != null) {
                send(ws, Json.obj().str("op", "permission_decision").str("turnId", turnId).str("requestId", requestId)
                        .str("decision", decision).end());
            }
        }
    }
}

package io.diminuendo.upstream;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;

/**
 * A backend speaking the OpenAI-compatible chat completions API (OpenAI, vLLM, llama.cpp server, Ollama's
 * {@code /v1} endpoint): one streaming {@code POST {url}/v1/chat/completions} per turn, with the session's
 * history rebuilt from its stored events. The server-sent events are parsed incrementally ({@link SseParser})
 * and mapped to the §3 vocabulary:
 * <ul>
 * <li>the first chunk → {@code MessageStart};</li>
 * <li>{@code delta.content} → text block {@value #TEXT_BLOCK}; {@code delta.reasoning_content} (or
 * {@code delta.reasoning}) → thinking block {@value #THINKING_BLOCK};</li>
 * <li>{@code delta.tool_calls[]} fragments → one {@code tool_use} block per tool call {@code index} (block
 * {@value #TOOL_BLOCK_BASE} + index), its {@code function.arguments} fragments → input JSON deltas;</li>
 * <li>{@code finish_reason} → open blocks stop, {@code MessageDelta} with the stop reason
 * ({@code stop}→{@code end_turn}, {@code length}→{@code max_tokens}, {@code tool_calls}→{@code tool_use});</li>
 * <li>{@code usage} → one {@code MessageDelta} with the token counts just before {@code MessageStop} (the last
 * one seen: some servers repeat it on every chunk);</li>
 * <li>{@code data: [DONE]} (or the end of the body after a {@code finish_reason}) → {@code MessageStop}.</li>
 * </ul>
 * Every failure ends the turn with exactly one {@code Error} whose code says what to do: HTTP 401/403
 * {@code backend_unauthorized}, 429 {@code backend_rate_limited}, 5xx or an {@code error} chunk
 * {@code backend_error}, other statuses {@code backend_rejected}, no connection or a connection dropped
 * mid-reply {@code backend_lost}, a body that ends before the reply is complete {@code backend_truncated}, no
 * bytes for {@code idle-timeout} {@code backend_timeout}. Chunks that are not JSON are counted in
 * {@code diminuendo.backend.frames.malformed} and skipped.
 * <p>
 * Flow control: when the turn's sink asks to pause, the HTTP response is paused (TCP back-pressure reaches the
 * server) and resumed when the sink is ready; the idle timer does not run down while paused. {@code cancel()}
 * resets the HTTP request, which closes its connection. The API has no permission protocol, so
 * {@code permissionDecision} is a no-op (a turn of this backend never emits {@code permission_request}).
 * <p>
 * Health: the backend is up until a request cannot connect (refused, unreachable, connect timeout, TLS
 * failure). Then it is down (new turns get {@code unavailable}) and a TCP connect to the server's host and port
 * is tried after {@code reconnect-min}, doubling up to {@code reconnect-max}; the first probe or request that
 * connects makes it up again. {@code latencyMs} is the time to the response headers of the last request;
 * {@code checkedAt} is when they came, or when a connection attempt (request or probe) last failed or
 * succeeded; both are unset before the first request.
 * <p>
 * All HTTP handling of this backend runs on one Vert.x event-loop context.
 */
public final class OpenAiBackend implements AgentBackend {
    private static final Logger LOG = Logger.getLogger(OpenAiBackend.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Connections (= concurrent turns) per backend; more turns wait for a free connection. */
    static final int MAX_CONNECTIONS = 512;
    /** Longest SSE line or event data accepted; longer ones are dropped and counted as malformed. */
    static final int MAX_LINE_BYTES = 8 * 1024 * 1024;
    /** Bytes of an error response's body read for the message. */
    static final int MAX_ERROR_BODY_BYTES = 16 * 1024;
    static final int TEXT_BLOCK = 0;
    static final int THINKING_BLOCK = 1;
    static final int TOOL_BLOCK_BASE = 10;

    private final String name;
    private final String endpoint;
    private final Optional<String> apiKey;
    private final Optional<String> model;
    private final long idleMs;
    private final Vertx vertx;
    private final Context context;
    private final HttpClient client;
    private final Counter malformed;
    private final NetClient probeClient;
    private final String host;
    private final int port;
    private final long probeMinMs;
    private final long probeMaxMs;
    private volatile boolean down;
    private int connectFailures;
    private long probeTimer = -1;
    private boolean closed;
    private volatile double latencyMs = -1;
    private volatile long checkedAt;

    public OpenAiBackend(String name, GatewayConfig.Backend config, Vertx vertx, GatewayMetrics metrics) {
        this.name = name;
        this.endpoint = endpoint(name, config.url().orElseThrow(() -> new IllegalStateException(
                "diminuendo.backends." + name + ".url is required for an openai backend")));
        this.apiKey = config.apiKey().filter(k -> !k.isBlank());
        this.model = config.model().filter(m -> !m.isBlank());
        this.idleMs = config.idleTimeout().toMillis();
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.client = vertx.httpClientBuilder()
                .with(new HttpClientOptions()
                        .setConnectTimeout((int) config.connectTimeout().toMillis())
                        .setKeepAlive(true)
                        .setName("diminuendo-openai-" + name))
                .with(new PoolOptions().setHttp1MaxSize(MAX_CONNECTIONS))
                // failures reach the turn through its request and response; this keeps them out of the error log
                .withConnectHandler(connection -> connection.exceptionHandler(
                        e -> LOG.debugf("backend %s: connection error: %s", name, e.getMessage())))
                .build();
        URI uri = URI.create(endpoint);
        this.host = uri.getHost().startsWith("[") ? uri.getHost().substring(1, uri.getHost().length() - 1) : uri.getHost();
        this.port = uri.getPort() > 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
        this.probeClient = vertx.createNetClient(new NetClientOptions().setConnectTimeout((int) config.connectTimeout().toMillis()));
        this.probeMinMs = Math.max(1, config.reconnectMin().toMillis());
        this.probeMaxMs = Math.max(probeMinMs, config.reconnectMax().toMillis());
        this.malformed = metrics.counter("diminuendo.backend.frames.malformed", "Backend frames that could not be decoded", "backend", name);
    }

    /**
     * {@code {url}/v1/chat/completions}; a URL that already ends with {@code /v1} (as OpenAI's own base URL is
     * often written) only gets {@code /chat/completions}.
     */
    static String endpoint(String name, String url) {
        String base = url.trim();
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        URI uri;
        try {
            uri = URI.create(base);
        } catch (IllegalArgumentException e) {
            uri = null;
        }
        if (uri == null || uri.getHost() == null
                || !("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))) {
            throw new IllegalStateException("diminuendo.backends." + name + ".url must be an http:// or https:// URL, got: " + url);
        }
        return base.endsWith("/v1") ? base + "/chat/completions" : base + "/v1/chat/completions";
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean isUp() {
        return !down;
    }

    @Override
    public double latencyMs() {
        return latencyMs;
    }

    @Override
    public long checkedAt() {
        return checkedAt;
    }

    @Override
    public TurnHandle start(TurnRequest request, TurnSink sink) {
        Call call = new Call(request, sink, requestBody(request));
        context.runOnContext(v -> call.send());
        return call;
    }

    String requestBody(TurnRequest request) {
        ObjectNode body = JSON.createObjectNode();
        model.ifPresent(m -> body.put("model", m));
        body.put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        ArrayNode messages = body.putArray("messages");
        for (TurnRequest.HistoryMessage m : request.history()) {
            messages.addObject().put("role", m.role()).put("content", m.text());
        }
        messages.addObject().put("role", "user").put("content", request.text());
        return body.toString();
    }

    /** A request or a probe could not connect: down, and probing with backoff. Runs on the context. */
    private void connectionFailed() {
        checkedAt = System.currentTimeMillis();
        down = true;
        connectFailures++;
        if (probeTimer < 0 && !closed) {
            long delay = Math.min(probeMaxMs, probeMinMs << Math.min(connectFailures - 1, 20));
            probeTimer = vertx.setTimer(delay, id -> {
                probeTimer = -1;
                probe();
            });
        }
    }

    /** A request or a probe connected: up again. Runs on the context. */
    private void connectionWorked() {
        connectFailures = 0;
        down = false;
        if (probeTimer >= 0) {
            vertx.cancelTimer(probeTimer);
            probeTimer = -1;
        }
    }

    private void probe() {
        if (closed || !down) {
            return;
        }
        probeClient.connect(port, host).onComplete(ar -> {
            checkedAt = System.currentTimeMillis();
            if (ar.succeeded()) {
                ar.result().close();
                LOG.infof("backend %s: %s:%d accepts connections again", name, host, port);
                connectionWorked();
            } else {
                connectionFailed();
            }
        });
    }

    @Override
    public void close() {
        context.runOnContext(v -> {
            closed = true;
            if (probeTimer >= 0) {
                vertx.cancelTimer(probeTimer);
                probeTimer = -1;
            }
            probeClient.close();
            client.close();
        });
    }

    private String where() {
        return "agent backend '" + name + "'";
    }

    private record SseEvent(String event, String data) {
    }

    private static final class ToolCall {
        final int index;
        String id;
        String name;
        boolean started;
        StringBuilder pendingArguments;

        ToolCall(int index) {
            this.index = index;
        }
    }

    /** One turn: one HTTP request. Everything but {@link #cancel()}'s hand-over runs on {@link #context}. */
    private final class Call implements TurnHandle, SseParser.Listener {
        private final TurnRequest request;
        private final TurnSink sink;
        private final String body;
        private final SseParser parser = new SseParser(this, MAX_LINE_BYTES);
        private final ArrayDeque<SseEvent> pending = new ArrayDeque<>();
        private final Map<Integer, ToolCall> tools = new TreeMap<>();
        private HttpClientRequest http;
        private HttpClientResponse response;
        private boolean finished;
        private boolean paused;
        private boolean pressure;
        private boolean bodyEnded;
        private Throwable bodyFailure;
        private long timer = -1;
        private long lastActivity;
        private long startedNanos;
        private boolean messageStarted;
        private boolean textOpen;
        private boolean thinkingOpen;
        private boolean finishSeen;
        private Long inputTokens;
        private Long outputTokens;

        Call(TurnRequest request, TurnSink sink, String body) {
            this.request = request;
            this.sink = sink;
            this.body = body;
        }

        void send() {
            if (finished || sink.isEnded()) {
                finished = true;
                return;
            }
            startedNanos = System.nanoTime();
            touch();
            armTimer(idleMs);
            RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(endpoint)
                    .putHeader("Content-Type", "application/json")
                    .putHeader("Accept", "text/event-stream");
            apiKey.ifPresent(key -> options.putHeader("Authorization", "Bearer " + key));
            client.request(options).onComplete(ar -> {
                if (ar.failed()) {
                    connectFailed(ar.cause());
                    return;
                }
                connectionWorked();
                HttpClientRequest req = ar.result();
                if (finished) {
                    req.reset();
                    return;
                }
                http = req;
                req.exceptionHandler(e -> LOG.debugf("backend %s: request error: %s", name, e.getMessage()));
                req.send(Buffer.buffer(body)).onComplete(rar -> {
                    if (rar.failed()) {
                        if (!finished) {
                            lost(rar.cause());
                        }
                        return;
                    }
                    onResponse(rar.result());
                });
            });
        }

        private void connectFailed(Throwable cause) {
            connectionFailed();
            LOG.warnf("backend %s: cannot connect to %s: %s", name, endpoint, cause.getMessage());
            fail("backend_lost", "could not connect to " + where() + " at " + endpoint + " (" + describe(cause)
                    + "); check that the server is running and diminuendo.backends." + name + ".url");
        }

        private void lost(Throwable cause) {
            LOG.warnf("backend %s: connection lost mid-reply: %s", name, cause.getMessage());
            fail("backend_lost", "the connection to " + where() + " was lost before the reply was complete ("
                    + describe(cause) + "); send the message again");
        }

        private void onResponse(HttpClientResponse resp) {
            latencyMs = (System.nanoTime() - startedNanos) / 1_000_000.0;
            checkedAt = System.currentTimeMillis();
            if (finished) {
                return;
            }
            response = resp;
            touch();
            int status = resp.statusCode();
            String type = resp.getHeader("Content-Type");
            if (status / 100 != 2 || (type != null && type.toLowerCase().startsWith("application/json"))) {
                readErrorBody(resp, status);
                return;
            }
            resp.handler(this::onData);
            resp.endHandler(v -> onBodyEnd(null));
            resp.exceptionHandler(this::onBodyEnd);
        }

        private void readErrorBody(HttpClientResponse resp, int status) {
            Buffer collected = Buffer.buffer();
            String retryAfter = resp.getHeader("Retry-After");
            resp.handler(b -> {
                touch();
                int room = MAX_ERROR_BODY_BYTES - collected.length();
                if (room > 0) {
                    collected.appendBuffer(b, 0, Math.min(room, b.length()));
                }
            });
            resp.endHandler(v -> {
                bodyEnded = true;
                httpError(status, retryAfter, collected.toString(StandardCharsets.UTF_8));
            });
            resp.exceptionHandler(e -> httpError(status, retryAfter, collected.toString(StandardCharsets.UTF_8)));
        }

        private void httpError(int status, String retryAfter, String errorBody) {
            if (finished) {
                return;
            }
            String detail = errorDetail(errorBody);
            String statusText = "HTTP " + status + (detail.isEmpty() ? "" : ": " + detail);
            String code;
            String message;
            if (status == 401 || status == 403) {
                code = "backend_unauthorized";
                message = where() + " refused the credentials (" + statusText + "); check diminuendo.backends." + name + ".api-key";
            } else if (status == 429) {
                code = "backend_rate_limited";
                message = where() + " is rate limiting requests (" + statusText + "); wait"
                        + (retryAfter == null ? "" : " " + retryAfter + " s") + " and send the message again";
            } else if (status >= 500) {
                code = "backend_error";
                message = where() + " failed (" + statusText + "); send the message again later";
            } else if (status / 100 == 2) {
                code = "backend_error";
                message = where() + " answered with a JSON document instead of an event stream ("
                        + (detail.isEmpty() ? "no error message" : detail) + "); it must support \"stream\": true";
            } else {
                code = "backend_rejected";
                message = where() + " rejected the request (" + statusText + "); check diminuendo.backends." + name
                        + ".url and .model";
            }
            LOG.warnf("backend %s: %s", name, message);
            fail(code, message);
        }

        private void onData(Buffer data) {
            if (finished) {
                return;
            }
            touch();
            parser.feed(data);
            drain();
        }

        private void onBodyEnd(Throwable failure) {
            if (bodyEnded) {
                return;
            }
            bodyEnded = true;
            if (finished) {
                return;
            }
            bodyFailure = failure;
            parser.end();
            drain();
        }

        @Override
        public void event(String event, String data) {
            pending.add(new SseEvent(event, data));
        }

        @Override
        public void oversized() {
            malformed.increment();
        }

        /** Maps the parsed events in order until the sink asks to pause; handles the end of the body last. */
        private void drain() {
            while (!finished && !paused) {
                if (sink.isEnded()) {
                    abort(); // the gateway ended the turn (timeout, shutdown); its cancel() is on its way
                    return;
                }
                SseEvent e = pending.poll();
                if (e == null) {
                    break;
                }
                onEvent(e);
                if (pressure && !finished) {
                    pressure = false;
                    pause();
                }
            }
            if (!finished && !paused && bodyEnded && pending.isEmpty()) {
                if (finishSeen) {
                    complete(); // the body ended after finish_reason without [DONE]: the reply is whole
                } else if (bodyFailure != null) {
                    lost(bodyFailure);
                } else {
                    fail("backend_truncated", where() + " ended the stream before the reply was complete (no"
                            + " finish_reason, no [DONE]); send the message again");
                }
            }
        }

        private void pause() {
            paused = true;
            if (response != null) {
                response.pause();
            }
            sink.whenReady(() -> context.runOnContext(v -> resume()));
        }

        private void resume() {
            if (!paused) {
                return;
            }
            paused = false;
            if (finished) {
                return;
            }
            touch();
            drain();
            if (!paused && !finished && !bodyEnded && response != null) {
                response.resume();
            }
        }

        private void onEvent(SseEvent e) {
            String data = e.data().trim();
            if ("error".equals(e.event())) {
                chunkError(data);
                return;
            }
            if (data.equals("[DONE]")) {
                complete();
                return;
            }
            if (data.isEmpty()) {
                return;
            }
            JsonNode chunk;
            try {
                chunk = JSON.readTree(data);
            } catch (Exception ex) {
                chunk = null;
            }
            if (chunk == null || !chunk.isObject()) {
                malformed.increment();
                return;
            }
            JsonNode error = chunk.get("error");
            if (error != null && !error.isNull()) {
                chunkError(data);
                return;
            }
            if (!messageStarted) {
                messageStarted = true;
                emit(new BackendEvent.MessageStart());
            }
            JsonNode choices = chunk.path("choices");
            if (choices.isArray() && choices.size() > 0) {
                choice(choices.get(0));
            }
            JsonNode usage = chunk.get("usage");
            if (usage != null && usage.isObject()) {
                inputTokens = tokens(usage, "prompt_tokens", inputTokens);
                outputTokens = tokens(usage, "completion_tokens", outputTokens);
            }
        }

        private void choice(JsonNode choice) {
            JsonNode delta = choice.path("delta");
            String reasoning = text(delta, "reasoning_content");
            if (reasoning == null) {
                reasoning = text(delta, "reasoning");
            }
            if (reasoning != null && !reasoning.isEmpty()) {
                if (!thinkingOpen) {
                    thinkingOpen = true;
                    emit(new BackendEvent.BlockStart(THINKING_BLOCK, "thinking", null, null));
                }
                emit(new BackendEvent.ThinkingDelta(THINKING_BLOCK, reasoning));
            }
            String content = text(delta, "content");
            if (content != null && !content.isEmpty()) {
                if (!textOpen) {
                    textOpen = true;
                    emit(new BackendEvent.BlockStart(TEXT_BLOCK, "text", null, null));
                }
                emit(new BackendEvent.TextDelta(TEXT_BLOCK, content));
            }
            JsonNode calls = delta.path("tool_calls");
            if (calls.isArray()) {
                for (int i = 0; i < calls.size(); i++) {
                    toolFragment(calls.get(i), i);
                }
            }
            String finish = text(choice, "finish_reason");
            if (finish != null && !finish.isEmpty()) {
                closeBlocks();
                finishSeen = true;
                emit(new BackendEvent.MessageDelta(stopReason(finish), null, null));
            }
        }

        private void toolFragment(JsonNode call, int position) {
            JsonNode idx = call.get("index");
            int index = idx != null && idx.canConvertToInt() ? idx.asInt() : position;
            ToolCall tool = tools.computeIfAbsent(index, ToolCall::new);
            String id = text(call, "id");
            if (tool.id == null && id != null && !id.isEmpty()) {
                tool.id = id;
            }
            JsonNode function = call.path("function");
            String fname = text(function, "name");
            if (tool.name == null && fname != null && !fname.isEmpty()) {
                tool.name = fname;
            }
            JsonNode args = function.get("arguments");
            String fragment = args == null || args.isNull() ? null : args.isTextual() ? args.asText() : args.toString();
            if (!tool.started && tool.name != null) {
                startTool(tool);
            }
            if (fragment != null && !fragment.isEmpty()) {
                if (tool.started) {
                    emit(new BackendEvent.InputJsonDelta(TOOL_BLOCK_BASE + tool.index, fragment));
                } else {
                    if (tool.pendingArguments == null) {
                        tool.pendingArguments = new StringBuilder();
                    }
                    tool.pendingArguments.append(fragment); // no name yet: held until the block can start
                }
            }
        }

        private void startTool(ToolCall tool) {
            tool.started = true;
            if (tool.id == null) {
                tool.id = "call_" + request.turnId() + "_" + tool.index;
            }
            if (tool.name == null) {
                tool.name = "unknown";
            }
            emit(new BackendEvent.BlockStart(TOOL_BLOCK_BASE + tool.index, "tool_use", tool.id, tool.name));
            if (tool.pendingArguments != null) {
                emit(new BackendEvent.InputJsonDelta(TOOL_BLOCK_BASE + tool.index, tool.pendingArguments.toString()));
                tool.pendingArguments = null;
            }
        }

        private void closeBlocks() {
            if (thinkingOpen) {
                thinkingOpen = false;
                emit(new BackendEvent.BlockStop(THINKING_BLOCK));
            }
            if (textOpen) {
                textOpen = false;
                emit(new BackendEvent.BlockStop(TEXT_BLOCK));
            }
            for (ToolCall tool : tools.values()) {
                if (!tool.started) {
                    startTool(tool);
                }
                emit(new BackendEvent.BlockStop(TOOL_BLOCK_BASE + tool.index));
            }
            tools.clear();
        }

        private void chunkError(String data) {
            String detail = errorDetail(data);
            fail("backend_error", where() + " reported an error mid-reply (" + (detail.isEmpty() ? "no message" : detail)
                    + "); send the message again");
        }

        private void complete() {
            if (finished) {
                return;
            }
            closeBlocks();
            if (!messageStarted) {
                messageStarted = true;
                emit(new BackendEvent.MessageStart());
            }
            if (inputTokens != null || outputTokens != null) {
                emit(new BackendEvent.MessageDelta(null, inputTokens, outputTokens));
            }
            end(new BackendEvent.MessageStop());
            if (!bodyEnded && http != null) {
                // the reply is whole; a server that keeps the body open after [DONE] gets the idle timeout to end it
                HttpClientRequest req = http;
                vertx.setTimer(Math.max(1, idleMs), id -> {
                    if (!bodyEnded) {
                        req.reset();
                    }
                });
            }
        }

        private void fail(String code, String message) {
            if (!finished) {
                end(new BackendEvent.Error(code, message));
                abort();
            }
        }

        /** Emits the one terminal event of the turn. */
        private void end(BackendEvent terminal) {
            finished = true;
            cancelTimer();
            pending.clear();
            sink.emit(terminal);
        }

        /** Stops the HTTP exchange without emitting anything (no-op if its response already ended). */
        private void abort() {
            finished = true;
            cancelTimer();
            pending.clear();
            if (http != null && !bodyEnded) {
                http.reset();
            }
        }

        private void emit(BackendEvent event) {
            if (!sink.emit(event)) {
                pressure = true;
            }
        }

        private void touch() {
            lastActivity = System.nanoTime();
        }

        private void armTimer(long delayMs) {
            timer = vertx.setTimer(Math.max(1, delayMs), id -> checkIdle());
        }

        private void cancelTimer() {
            if (timer >= 0) {
                vertx.cancelTimer(timer);
                timer = -1;
            }
        }

        private void checkIdle() {
            timer = -1;
            if (finished) {
                return;
            }
            if (paused) {
                armTimer(idleMs); // we are the ones not reading; the server is not idle
                return;
            }
            long idleFor = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastActivity);
            if (idleFor >= idleMs) {
                LOG.warnf("backend %s: no bytes for %d ms, the turn fails", name, idleMs);
                fail("backend_timeout", where() + " sent nothing for " + idleMs + " ms; send the message again, or"
                        + " raise diminuendo.backends." + name + ".idle-timeout if the model is slow to start");
            } else {
                armTimer(idleMs - idleFor);
            }
        }

        @Override
        public void cancel() {
            context.runOnContext(v -> {
                if (!finished) {
                    abort();
                }
            });
        }

        /** No-op: the chat completions API has no permission protocol, so no permission request is ever open. */
        @Override
        public void permissionDecision(String requestId, String decision) {
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v != null && v.isTextual() ? v.asText() : null;
    }

    private static Long tokens(JsonNode usage, String field, Long previous) {
        JsonNode v = usage.get(field);
        return v != null && v.canConvertToLong() ? Long.valueOf(v.asLong()) : previous;
    }

    static String stopReason(String finishReason) {
        return switch (finishReason) {
            case "stop" -> "end_turn";
            case "length" -> "max_tokens";
            case "tool_calls", "function_call" -> "tool_use";
            default -> finishReason;
        };
    }

    /**
     * A short excerpt of an error body for a user-facing message: {@code error.message} (OpenAI, vLLM,
     * llama.cpp), {@code error} as a string (Ollama) or {@code message}; else the start of the text itself.
     */
    static String errorDetail(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        String detail = null;
        try {
            JsonNode node = JSON.readTree(body);
            if (node != null && node.isObject()) {
                JsonNode error = node.get("error");
                if (error != null && error.isObject()) {
                    detail = text(error, "message");
                } else if (error != null && error.isTextual()) {
                    detail = error.asText();
                }
                if (detail == null) {
                    detail = text(node, "message");
                }
                if (detail == null && error != null) {
                    detail = error.toString();
                }
            }
        } catch (Exception e) {
            // not JSON: the text itself
        }
        if (detail == null) {
            detail = body;
        }
        detail = detail.replaceAll("\\s+", " ").trim();
        return detail.length() > 200 ? detail.substring(0, 200) + "…" : detail;
    }

    private static String describe(Throwable cause) {
        String m = cause.getMessage();
        return m == null || m.isBlank() ? cause.getClass().getSimpleName() : m;
    }
}

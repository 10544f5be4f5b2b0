package io.diminuendo.bench;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;

/**
 * One client connection to a gateway's {@code /ws}. Event frames go, unparsed, to {@link #onEvent} (the
 * streaming hot path scans them as strings); every other frame is parsed: a reply completes the request with
 * the same {@code id}, anything else (pushes such as {@code tenant_event}) goes to {@link #onPush}.
 */
final class Ws {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String EVENT_PREFIX = "{\"type\":\"event\"";
    private static final AtomicLong IDS = new AtomicLong();

    final ClientWebSocket socket;
    private final Map<String, Promise<JsonNode>> pending = new ConcurrentHashMap<>();
    private final Promise<Void> closed = Promise.promise();
    private final Promise<JsonNode> authenticated = Promise.promise();
    volatile Consumer<String> onEvent = s -> {
    };
    volatile Consumer<JsonNode> onPush = n -> {
    };
    volatile Runnable onClosed = () -> {
    };
    /** {@link System#nanoTime()} when the upgrade completed (before any {@code authenticate} frame was sent). */
    volatile long upgradedNanos;

    private Ws(WebSocketClient client) {
        this.socket = client.webSocket();
        socket.textMessageHandler(this::onText);
        socket.closeHandler(v -> {
            closed.tryComplete();
            String why = "connection closed (" + socket.closeStatusCode() + " " + socket.closeReason() + ")";
            authenticated.tryFail(why);
            pending.values().forEach(p -> p.tryFail(why));
            pending.clear();
            onClosed.run();
        });
        socket.exceptionHandler(e -> authenticated.tryFail(e));
    }

    static WebSocketConnectOptions options(Target t, String path, String bearer) {
        WebSocketConnectOptions o = new WebSocketConnectOptions().setHost(t.host()).setPort(t.port()).setSsl(t.ssl())
                .setURI(path);
        if (bearer != null) {
            o.addHeader("Authorization", "Bearer " + bearer);
        }
        return o;
    }

    /**
     * Connects to {@code /ws} and authenticates: with the {@code Authorization} header on the upgrade when
     * {@code header}, else with an {@code authenticate} frame. Completes when {@code authenticated} arrives.
     */
    static Future<Ws> open(WebSocketClient client, Target t, boolean header) {
        Ws ws = new Ws(client);
        String token = Tokens.next(t);
        return ws.socket.connect(options(t, "/ws", header ? token : null)).compose(s -> {
            ws.upgradedNanos = System.nanoTime();
            if (!header) {
                ObjectNode auth = JSON.createObjectNode().put("token", token);
                ws.request("authenticate", auth).onComplete(ar -> {
                    if (ar.failed()) {
                        ws.authenticated.tryFail(ar.cause());
                    } else {
                        ws.authenticated.tryComplete(ar.result());
                    }
                });
            }
            return ws.authenticated.future();
        }).compose(reply -> {
            if (!"authenticated".equals(reply.path("type").asText())) {
                ws.socket.close();
                return Future.failedFuture("authentication failed: " + reply);
            }
            return Future.succeededFuture(ws);
        });
    }

    /** Sends {@code {"type":type,"id":…,…fields}} and completes with the reply carrying that id (errors included). */
    Future<JsonNode> request(String type, ObjectNode fields) {
        String id = "r" + IDS.incrementAndGet();
        ObjectNode frame = JSON.createObjectNode().put("type", type).put("id", id);
        if (fields != null) {
            frame.setAll(fields);
        }
        Promise<JsonNode> p = Promise.promise();
        pending.put(id, p);
        socket.writeTextMessage(frame.toString()).onFailure(e -> {
            if (pending.remove(id) != null) {
                p.tryFail(e);
            }
        });
        return p.future();
    }

    /** Like {@link #request} but fails unless the reply's type is {@code expected}. */
    Future<JsonNode> call(String type, ObjectNode fields, String expected) {
        return request(type, fields).compose(r -> expected.equals(r.path("type").asText()) ? Future.succeededFuture(r)
                : Future.failedFuture(type + " answered " + r));
    }

    private void onText(String text) {
        if (text.startsWith(EVENT_PREFIX)) {
            onEvent.accept(text);
            return;
        }
        JsonNode n;
        try {
            n = JSON.readTree(text);
        } catch (Exception e) {
            return;
        }
        JsonNode id = n.get("id");
        if (id != null && id.isTextual()) {
            Promise<JsonNode> p = pending.remove(id.asText());
            if (p != null) {
                p.tryComplete(n);
                return;
            }
        }
        if (id == null && "authenticated".equals(n.path("type").asText())) {
            authenticated.tryComplete(n);
            return;
        }
        if (id == null && "error".equals(n.path("type").asText()) && !authenticated.future().isComplete()) {
            authenticated.tryComplete(n);
            return;
        }
        if (id == null && "rate_limited".equals(n.path("code").asText())) {
            // the gateway drops frames over its rate limit: the requests in flight will never be answered
            String why = "the gateway rate-limited this connection (raise diminuendo.limits.frames-per-second): " + n;
            pending.values().forEach(p -> p.tryFail(why));
            pending.clear();
        }
        onPush.accept(n);
    }

    Future<Void> closed() {
        return closed.future();
    }

    boolean isClosed() {
        return socket.isClosed();
    }

    /** Closes and completes once the socket is closed (or at once if it already is). */
    Future<Void> close() {
        if (!socket.isClosed()) {
            socket.close();
        }
        return closed.future();
    }

    static ObjectNode fields() {
        return JSON.createObjectNode();
    }
}

package io.diminuendo.warmup;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.ObservesAsync;

import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.auth.Authenticator;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.protocol.EventKind;
import io.diminuendo.protocol.Json;
import io.quarkus.vertx.http.HttpServerStart;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;

/**
 * Runs the gateway's hot paths over loopback, as a client would, once the HTTP server listens and before readiness
 * reports UP: a pod started by a rollout then serves its first users with compiled code rather than paying for
 * class loading and interpretation on their requests. Each round: {@code GET /health}; a WebSocket connection
 * (authenticated by header and by frame, alternately); {@code create_session}, {@code subscribe}, in one round of ten
 * a short turn of the built-in simulator, {@code history}, {@code delete_session}; and the JWT verifier in process.
 * The warm-up's identity is a random key valid only while it runs, in tenant {@value #TENANT}, whose sessions are
 * deleted as it goes. A round that fails ends the warm-up with a warning; the gateway becomes ready anyway.
 */
@Readiness
@ApplicationScoped
public class Warmup implements HealthCheck {
    private static final Logger LOG = Logger.getLogger(Warmup.class);
    static final String TENANT = "diminuendo-warmup";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final GatewayConfig.Warmup config;
    private final Authenticator auth;
    private final Vertx vertx;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicLong ids = new AtomicLong();
    private volatile boolean done;
    private volatile int roundsRun;

    public Warmup(GatewayConfig config, Authenticator auth, Vertx vertx) {
        this.config = config.warmup();
        this.auth = auth;
        this.vertx = vertx;
        this.done = !this.config.enabled();
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("warm-up").status(done).withData("rounds", roundsRun).build();
    }

    /**
     * Fired once the HTTP server listens. Its options hold the configured port, which is not the bound one when that
     * is 0 (random, as in tests); the configuration holds the bound one by then.
     */
    void serverStarted(@ObservesAsync HttpServerStart server) {
        if (done || !started.compareAndSet(false, true)) {
            return;
        }
        int port = ConfigProvider.getConfig().getOptionalValue("quarkus.http.port", Integer.class)
                .orElse(server.options().getPort());
        String bound = server.options().getHost();
        // a server on every interface is reached on loopback; one bound to a single address only there
        String host = bound == null || bound.equals("0.0.0.0") || bound.equals("::") ? "127.0.0.1" : bound;
        Thread t = new Thread(() -> run(host, port), "diminuendo-warmup");
        t.setDaemon(true);
        t.start();
    }

    private void run(String host, int port) {
        long start = System.nanoTime();
        long deadline = start + config.maxDuration().toNanos();
        String key = auth.openWarmupKey(TENANT, "warmup");
        HttpClient http = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(host).setDefaultPort(port)
                .setKeepAlive(true));
        WebSocketClient ws = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(4));
        int rounds = 0;
        try {
            for (; rounds < config.rounds() && System.nanoTime() < deadline; rounds++) {
                health(http);
                // the simulator paces even a delay_ms=0 turn with timers (a few ms): one round in ten runs one
                round(ws, host, port, key, rounds % 2 == 0, rounds % 10 == 0);
                auth.warmJwt(4);
                roundsRun = rounds + 1;
            }
            LOG.infof("warm-up: %d rounds in %d ms; ready", rounds, (System.nanoTime() - start) / 1_000_000);
        } catch (Exception e) {
            LOG.warnf("warm-up stopped after %d rounds (%s); ready anyway", rounds, e.getMessage());
        } finally {
            auth.closeWarmupKey();
            http.close();
            ws.close();
            done = true;
        }
    }

    private void health(HttpClient http) throws Exception {
        await(http.request(HttpMethod.GET, "/health").compose(r -> r.send()).compose(r -> r.body()));
    }

    /** One client's life: connect, authenticate, create, subscribe, perhaps a turn, history, delete, close. */
    private void round(WebSocketClient client, String host, int port, String key, boolean header, boolean withTurn)
            throws Exception {
        WebSocketConnectOptions options = new WebSocketConnectOptions().setHost(host).setPort(port).setURI("/ws");
        if (header) {
            options.addHeader("Authorization", "Bearer " + key);
        }
        Inbox frames = new Inbox();
        WebSocket socket = await(client.connect(options));
        socket.textMessageHandler(text -> {
            try {
                frames.arrived.add(JSON.readTree(text));
            } catch (Exception e) {
                // every frame of the gateway is JSON
            }
        });
        String sessionId = null;
        try {
            if (!header) {
                request(socket, frames, "authenticate", Json.obj().str("token", key), "authenticated");
            }
            sessionId = request(socket, frames, "create_session",
                    Json.obj().str("title", "warm-up").str("agent", "simulated"), "session_created")
                    .path("session").path("id").asText();
            request(socket, frames, "subscribe", Json.obj().str("sessionId", sessionId), "subscribed");
            if (withTurn) {
                request(socket, frames, "send_message", Json.obj().str("sessionId", sessionId)
                        .str("text", "/sim thinking tool tokens=20 delay_ms=0"), "message_accepted");
                String sid = sessionId;
                frames.next(f -> "event".equals(f.path("type").asText()) && sid.equals(f.path("sessionId").asText())
                        && endsTurn(f),
                        "the end of the turn");
            }
            request(socket, frames, "history", Json.obj().str("sessionId", sessionId).num("afterSeq", 0), "history");
            request(socket, frames, "delete_session", Json.obj().str("sessionId", sessionId), "session_deleted");
            sessionId = null;
        } finally {
            if (sessionId != null) {
                String sid = sessionId;
                socket.writeTextMessage(Json.obj().str("type", "delete_session").str("sessionId", sid).end());
            }
            await(socket.close());
        }
    }

    private JsonNode request(WebSocket socket, Inbox frames, String type, Json.Obj fields,
            String expected) throws Exception {
        String id = "w" + ids.incrementAndGet();
        await(socket.writeTextMessage(fields.str("type", type).str("id", id).end()));
        JsonNode reply = frames.next(f -> id.equals(f.path("id").asText()), type);
        if (!expected.equals(reply.path("type").asText())) {
            throw new IllegalStateException(type + " was answered " + reply);
        }
        return reply;
    }

    /** What the gateway sent on one connection; frames that are not the one waited for are kept for later. */
    private static final class Inbox {
        final LinkedBlockingQueue<JsonNode> arrived = new LinkedBlockingQueue<>();
        final List<JsonNode> kept = new ArrayList<>();

        JsonNode next(Predicate<JsonNode> wanted, String what) throws Exception {
            for (Iterator<JsonNode> it = kept.iterator(); it.hasNext();) {
                JsonNode f = it.next();
                if (wanted.test(f)) {
                    it.remove();
                    return f;
                }
            }
            while (true) {
                JsonNode f = arrived.poll(5, TimeUnit.SECONDS);
                if (f == null) {
                    throw new TimeoutException("no answer to " + what + " within 5 s");
                }
                if (wanted.test(f)) {
                    return f;
                }
                kept.add(f);
            }
        }
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    private static boolean endsTurn(JsonNode event) {
        EventKind kind = EventKind.fromWire(event.path("kind").asText());
        return kind != null && kind.isTerminal();
    }
}

package io.diminuendo.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A real WebSocket client (JDK {@code java.net.http}) for tests: frames arrive in a queue; helpers wait for a
 * reply by id, for a frame matching a predicate, or for the close code. Frames skipped while waiting for
 * something else are kept and can still be awaited later.
 */
public final class WsClient implements AutoCloseable {
    public static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final AtomicInteger IDS = new AtomicInteger();

    private final LinkedBlockingQueue<JsonNode> incoming = new LinkedBlockingQueue<>();
    private final List<JsonNode> skipped = new ArrayList<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final WebSocket socket;

    private WsClient(URI uri, String bearer) {
        WebSocket.Builder b = HTTP.newWebSocketBuilder().connectTimeout(TIMEOUT);
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        this.socket = b.buildAsync(toWs(uri), new Listener()).join();
    }

    /** Accepts the http URI of {@code @TestHTTPResource} and turns it into the ws one. */
    public static URI toWs(URI uri) {
        String s = uri.toString();
        return URI.create(s.startsWith("http") ? "ws" + s.substring(4) : s);
    }

    public static WsClient connect(URI uri) {
        return new WsClient(uri, null);
    }

    public static WsClient connectWithHeader(URI uri, String token) {
        return new WsClient(uri, token);
    }

    /** Connects and authenticates with an {@code authenticate} frame; fails unless {@code authenticated} comes back. */
    public static WsClient authenticated(URI uri, String token) {
        WsClient c = connect(uri);
        JsonNode reply = c.request("authenticate", "token", token);
        if (!"authenticated".equals(reply.path("type").asText())) {
            throw new AssertionError("authentication failed: " + reply);
        }
        return c;
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    incoming.add(JSON.readTree(partial.toString()));
                } catch (Exception e) {
                    incoming.add(JSON.createObjectNode().put("type", "<unparseable>").put("raw", partial.toString()));
                }
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.complete(-1);
        }
    }

    public static String nextId() {
        return "r" + IDS.incrementAndGet();
    }

    /** Builds a frame from alternating field names and values. */
    public static ObjectNode frame(String type, Object... fields) {
        ObjectNode n = JSON.createObjectNode().put("type", type);
        for (int i = 0; i < fields.length; i += 2) {
            n.set((String) fields[i], JSON.valueToTree(fields[i + 1]));
        }
        return n;
    }

    public void send(String text) {
        socket.sendText(text, true).join();
    }

    public void send(JsonNode frame) {
        send(frame.toString());
    }

    public void sendBinary(byte[] data) {
        socket.sendBinary(ByteBuffer.wrap(data), true).join();
    }

    /** Sends a request with a fresh id and returns the frame that echoes that id. */
    public JsonNode request(String type, Object... fields) {
        String id = nextId();
        ObjectNode f = frame(type, fields).put("id", id);
        send(f);
        return reply(id);
    }

    public JsonNode reply(String id) {
        return await(n -> id.equals(n.path("id").asText(null)));
    }

    /** The next frame matching {@code match}, earlier non-matching frames kept for later. */
    public JsonNode await(Predicate<JsonNode> match) {
        return await(match, TIMEOUT);
    }

    public synchronized JsonNode await(Predicate<JsonNode> match, Duration timeout) {
        for (Iterator<JsonNode> it = skipped.iterator(); it.hasNext();) {
            JsonNode n = it.next();
            if (match.test(n)) {
                it.remove();
                return n;
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                JsonNode n = left <= 0 ? null : incoming.poll(left, TimeUnit.NANOSECONDS);
                if (n == null) {
                    throw new AssertionError("no matching frame within " + timeout + "; unmatched so far: "
                            + abbreviate(skipped));
                }
                if (match.test(n)) {
                    return n;
                }
                skipped.add(n);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    /** Waits for the event of {@code sessionId} with the given kind. */
    public JsonNode awaitEvent(String sessionId, String kind) {
        return await(n -> Events.isEventOf(n, sessionId) && kind.equals(n.path("kind").asText()));
    }

    /** Every event of {@code sessionId} received until (and including) the first whose kind is in {@code stopKinds}. */
    public List<JsonNode> eventsUntil(String sessionId, String... stopKinds) {
        List<JsonNode> out = new ArrayList<>();
        while (true) {
            JsonNode e = await(n -> Events.isEventOf(n, sessionId));
            out.add(e);
            for (String k : stopKinds) {
                if (k.equals(e.path("kind").asText())) {
                    return out;
                }
            }
        }
    }

    /** Events of the session until the turn's terminal event. */
    public List<JsonNode> eventsUntilTurnEnds(String sessionId) {
        return eventsUntil(sessionId, Events.TERMINAL_KINDS.toArray(String[]::new));
    }

    /** Events of the session that reached this client before the reply to a ping sent now; fails unless it is a pong. */
    public List<JsonNode> eventsBeforePong(String sessionId) {
        JsonNode pong = request("ping");
        if (!"pong".equals(pong.path("type").asText())) {
            throw new AssertionError("ping not answered with pong: " + pong);
        }
        return drain().stream().filter(n -> Events.isEventOf(n, sessionId)).toList();
    }

    /** Frames received and not yet consumed, without waiting. */
    public synchronized List<JsonNode> drain() {
        List<JsonNode> out = new ArrayList<>(skipped);
        skipped.clear();
        incoming.drainTo(out);
        return out;
    }

    public int awaitClose() {
        return awaitClose(TIMEOUT);
    }

    public int awaitClose(Duration timeout) {
        try {
            return closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError("connection not closed within " + timeout);
        }
    }

    public boolean isClosed() {
        return closed.isDone();
    }

    /** Creates a session and returns its id. */
    public String createSession(String title) {
        JsonNode reply = request("create_session", "title", title);
        if (!"session_created".equals(reply.path("type").asText())) {
            throw new AssertionError("create_session failed: " + reply);
        }
        return reply.path("session").path("id").asText();
    }

    /**
     * Creates a session on the backend {@code agent} (titled "on <agent>"), fails unless it was created on that
     * backend, subscribes to it and returns its id.
     */
    public String sessionOn(String agent) {
        JsonNode reply = request("create_session", "title", "on " + agent, "agent", agent);
        if (!"session_created".equals(reply.path("type").asText())
                || !agent.equals(reply.path("session").path("agent").asText())) {
            throw new AssertionError("create_session on " + agent + " failed: " + reply);
        }
        String id = reply.path("session").path("id").asText();
        subscribe(id);
        return id;
    }

    /** Subscribes to the session's live events and returns the reply; fails unless it is {@code subscribed}. */
    public JsonNode subscribe(String sessionId) {
        JsonNode reply = request("subscribe", "sessionId", sessionId);
        if (!"subscribed".equals(reply.path("type").asText())) {
            throw new AssertionError("subscribe failed: " + reply);
        }
        return reply;
    }

    /** Sends a prompt and returns the turn id; fails unless the reply is {@code message_accepted} for that session. */
    public String sendMessage(String sessionId, String text) {
        JsonNode reply = request("send_message", "sessionId", sessionId, "text", text);
        if (!"message_accepted".equals(reply.path("type").asText()) || !sessionId.equals(reply.path("sessionId").asText())) {
            throw new AssertionError("send_message not accepted: " + reply);
        }
        return reply.path("turnId").asText();
    }

    /** Sends a prompt to a session this client is subscribed to and returns the turn's events through its terminal one. */
    public List<JsonNode> runTurn(String sessionId, String text) {
        sendMessage(sessionId, text);
        return eventsUntilTurnEnds(sessionId);
    }

    /** The session's whole stored stream, paged through {@code history} until a page comes back empty. */
    public List<JsonNode> history(String sessionId) {
        List<JsonNode> all = new ArrayList<>();
        long after = 0;
        while (true) {
            JsonNode page = request("history", "sessionId", sessionId, "afterSeq", after, "limit", 1000);
            if (!"history".equals(page.path("type").asText())) {
                throw new AssertionError("history failed: " + page);
            }
            if (page.path("events").isEmpty()) {
                return all;
            }
            page.path("events").forEach(all::add);
            after = all.get(all.size() - 1).path("seq").asLong();
        }
    }

    @Override
    public void close() {
        if (!closed.isDone()) {
            try {
                socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(2, TimeUnit.SECONDS);
            } catch (Exception e) {
                socket.abort();
            }
        }
    }

    private static String abbreviate(List<JsonNode> frames) {
        String s = frames.toString();
        return s.length() > 2000 ? s.substring(0, 2000) + "…" : s;
    }

    public static Map<String, Object> map(Object... kv) {
        java.util.LinkedHashMap<String, Object> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}

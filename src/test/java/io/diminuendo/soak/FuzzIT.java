package io.diminuendo.soak;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.support.GatewayProcess;
import io.diminuendo.support.RawWebSocket;
import io.diminuendo.support.WsClient;

/**
 * A long fuzz run against the packaged gateway (issue 16, item 10): {@code -Dfuzz.frames} hostile frames from
 * {@code -Dfuzz.connections} connections at once, while another client streams turns. Frames are malformed or
 * truncated JSON, wrong types, unknown types, huge numbers and ids, oversized strings and frames, deep nesting,
 * random text, binary frames, and now and then one that must end the connection (invalid UTF-8: 1007, an RSV bit:
 * 1002, a head announcing 5 MiB: 1009, a bad token: 4401); a connection so closed is replaced. Every frame carries a
 * unique id where it has room for one.
 * <p>
 * It must hold that no id is answered twice; that every well-formed frame's id is answered once, unless its
 * connection was then closed with one of those documented codes before the reply; that no connection ends any other
 * way; that the streaming client sees every event of every turn in order; that the gateway logs no error; and that
 * its heap after a full GC and its RSS stay flat (the 256 MiB heap is committed and touched at start, so RSS changes
 * only with what lives outside it: direct buffers, threads, native memory). Not part of the default build:
 * {@code ./mvnw verify -Dit.test=FuzzIT -Dfuzz.frames=100000 -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false}.
 * The summary is printed and written to {@code target/fuzz-summary.txt}.
 */
@EnabledIfSystemProperty(named = "fuzz.frames", matches = "\\d+")
class FuzzIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CONNECTIONS = Integer.getInteger("fuzz.connections", 4);
    private static final long SEED = Long.getLong("fuzz.seed", 20261201L);
    /** Close codes a hostile frame may end its connection with (docs/protocol.md, "Errors"). */
    private static final Set<Integer> DOCUMENTED_CLOSES = Set.of(1002, 1007, 1009, 4401);
    private static final String[] TYPES = {"authenticate", "create_session", "list_sessions", "get_session",
            "update_session", "archive_session", "delete_session", "subscribe", "unsubscribe", "history",
            "send_message", "cancel_turn", "permission_decision", "ping", "event", "error", "", "PING", "nope"};

    /** One frame to send: its id (null when it has none we track), and whether a reply to that id is owed. */
    record Hostile(String id, boolean answerOwed, Kind kind, String text, byte[] bytes) {
    }

    enum Kind {
        TEXT, BINARY, INVALID_UTF8, RSV, HEAD_5_MIB, BAD_TOKEN
    }

    /** What all fuzzing connections saw. */
    static final class Tally {
        final Map<String, AtomicInteger> replies = new ConcurrentHashMap<>();
        final Map<String, Boolean> owed = new ConcurrentHashMap<>();
        /** The start of each owed frame, to show in a violation. */
        final Map<String, String> sent = new ConcurrentHashMap<>();
        final Map<Integer, AtomicInteger> closes = new ConcurrentHashMap<>();
        final AtomicLong framesSent = new AtomicLong();
        final AtomicLong repliesReceived = new AtomicLong();
        final AtomicLong unansweredAtClose = new AtomicLong();
        final List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());
    }

    static Hostile next(Random r, String tag, long n, String own, String victim) {
        String id = tag + "-" + n;
        String q = "\"" + id + "\"";
        String type = TYPES[r.nextInt(TYPES.length)];
        int pick = r.nextInt(1000);
        if (pick < 2) {
            return new Hostile(null, false, Kind.INVALID_UTF8, null, null);
        }
        if (pick < 4) {
            return new Hostile(null, false, Kind.RSV, null, null);
        }
        if (pick < 5) {
            return new Hostile(null, false, Kind.HEAD_5_MIB, null, null);
        }
        if (pick < 6) {
            return new Hostile(id, false, Kind.BAD_TOKEN, "{\"id\":" + q + ",\"type\":\"authenticate\",\"token\":\"forged."
                    + Long.toHexString(r.nextLong()) + "\"}", null);
        }
        if (pick < 40) {
            byte[] junk = new byte[1 + r.nextInt(256)];
            r.nextBytes(junk);
            return new Hostile(null, false, Kind.BINARY, null, junk);
        }
        return switch (r.nextInt(16)) {
            // well-formed objects with an id: each is owed exactly one reply
            case 0 -> owed(id, "{\"id\":" + q + ",\"type\":\"nope" + r.nextInt(100) + "\"}");
            case 1 -> owed(id, "{\"id\":" + q + ",\"type\":\"" + pickRequest(r) + "\",\"sessionId\":"
                    + List.of("1", "true", "[]", "{}", "null", "-1", "1e999").get(r.nextInt(7)) + "}");
            case 2 -> owed(id, "{\"id\":" + q + ",\"type\":\"history\",\"sessionId\":\"" + own + "\",\"afterSeq\":"
                    + List.of("1e308", "-1", "99999999999999999999999", "\"7\"", "0.5").get(r.nextInt(5)) + ",\"limit\":"
                    + List.of("5", "1e308", "-5", "0", "2147483648").get(r.nextInt(5)) + "}");
            case 3 -> owed(id, "{\"id\":" + q + ",\"type\":\"subscribe\",\"sessionId\":" + "[".repeat(1 + r.nextInt(3000))
                    + "]".repeat(r.nextInt(3)) + "}");
            case 4 -> owed(id, "{\"id\":" + q + ",\"type\":\"update_session\",\"sessionId\":\"" + own + "\",\"title\":\""
                    + "t".repeat(201 + r.nextInt(20_000)) + "\"}");
            case 5 -> owed(id, "{\"id\":" + q + ",\"type\":\"send_message\",\"sessionId\":\"" + victim + "\",\"text\":\""
                    + (r.nextInt(50) == 0 ? "y".repeat(300_000) : "hello") + "\"}");
            case 6 -> owed(id, "{\"id\":" + q + ",\"type\":\"" + pickRequest(r) + "\",\"sessionId\":\"" + victim
                    + "\",\"requestId\":\"x\",\"decision\":\"allow\",\"title\":\"pwned\",\"afterSeq\":0}");
            case 7 -> owed(id, "{\"id\":" + q + ",\"type\":\"ping\",\"type\":\"" + type + "\",\"pad\":\"\\u0000\\ud800\"}");
            case 8 -> owed(id, "{\"id\":" + q + ",\"type\":\"" + List.of("ping", "list_sessions").get(r.nextInt(2)) + "\"}");
            case 9 -> owed(id, "{\"id\":" + q + ",\"type\":\"" + List.of("get_session", "subscribe", "unsubscribe")
                    .get(r.nextInt(3)) + "\",\"sessionId\":\"" + own + "\"}");
            case 10 -> owed(id, "{\"id\":" + q + ",\"type\":\"get_session\",\"sessionId\":\"" + "s".repeat(65 + r.nextInt(500))
                    + "\",\"extra\":{\"a\":" + nested(1 + r.nextInt(500)) + "}}");
            // frames without a usable id, or not JSON objects: any reply, never two for one id
            case 11 -> {
                String valid = "{\"id\":" + q + ",\"type\":\"" + type + "\",\"sessionId\":\"" + own + "\",\"title\":\"t\"}";
                yield loose(id, valid.substring(0, r.nextInt(valid.length())));
            }
            case 12 -> loose(null, List.of("[1,2]", "\"str\"", "123", "null", "true", "", " ", "{}", "{\"id\":1e400}")
                    .get(r.nextInt(9)));
            case 13 -> loose(null, "{\"id\":\"" + "i".repeat(65 + r.nextInt(10_000)) + "\",\"type\":\"ping\"}");
            case 14 -> {
                StringBuilder s = new StringBuilder();
                for (int i = 0, len = 1 + r.nextInt(200); i < len; i++) {
                    s.appendCodePoint(r.nextInt(3) == 0 ? r.nextInt(0x80) : 0x80 + r.nextInt(0xd000));
                }
                yield loose(null, s.toString());
            }
            default -> loose(null, "{\"type\":" + List.of("1", "true", "null", "[]", "{}", "\"\\u0000\"", "1e999")
                    .get(r.nextInt(7)) + ",\"id\":" + List.of("{}", "[]", "1.5", "true", "-0").get(r.nextInt(5)) + "}");
        };
    }

    private static String nested(int depth) {
        return "{\"b\":".repeat(depth) + "1" + "}".repeat(depth);
    }

    private static String pickRequest(Random r) {
        return List.of("get_session", "history", "subscribe", "send_message", "cancel_turn", "update_session",
                "archive_session", "delete_session", "permission_decision").get(r.nextInt(9));
    }

    private static Hostile owed(String id, String text) {
        return new Hostile(id, true, Kind.TEXT, text, null);
    }

    private static Hostile loose(String id, String text) {
        return new Hostile(id, false, Kind.TEXT, text, null);
    }

    /**
     * One fuzzing connection after another until {@code frames} are sent: a reader thread counts the replies by id,
     * the calling thread writes. A connection ends with a closing frame, a close by the gateway, or, after the last
     * frame, once every reply it is owed has arrived.
     */
    static void fuzz(GatewayProcess gw, String tag, long frames, String own, String victim, Tally tally)
            throws Exception {
        Random r = new Random(SEED ^ tag.hashCode());
        long n = 0;
        while (n < frames) {
            try (RawWebSocket raw = RawWebSocket.connect(gw.ws(), 1 << 20)) {
                raw.authenticate(GatewayProcess.API_KEY);
                raw.readTimeout(Duration.ofSeconds(60));
                Connection conn = new Connection();
                Thread reader = new Thread(() -> read(raw, conn, tally), "fuzz-reader-" + tag);
                reader.start();
                boolean closing = false;
                Kind lastKind = Kind.TEXT;
                try {
                    for (; n < frames && !closing && conn.closeCode.get() == 0; n++) {
                        Hostile h = next(r, tag, n, own, victim);
                        if (h.id() != null) {
                            tally.owed.put(h.id(), h.answerOwed());
                            if (h.answerOwed()) {
                                conn.owed.add(h.id());
                                tally.sent.put(h.id(), h.text().substring(0, Math.min(160, h.text().length())));
                            }
                        }
                        tally.framesSent.incrementAndGet();
                        switch (h.kind()) {
                            case TEXT, BAD_TOKEN -> raw.sendText(h.text());
                            case BINARY -> raw.sendFrame(0x80 | 0x2, h.bytes());
                            case INVALID_UTF8 -> raw.sendFrame(0x81, new byte[] {'{', (byte) 0xc3, 0x28, '}'});
                            case RSV -> raw.sendFrame(0x80 | 0x20 | 0x1, "{\"type\":\"ping\"}".getBytes(StandardCharsets.US_ASCII));
                            case HEAD_5_MIB -> raw.sendHead(0x81, 5L * 1024 * 1024);
                        }
                        closing = h.kind() != Kind.TEXT && h.kind() != Kind.BINARY;
                        lastKind = h.kind();
                    }
                } catch (IOException e) {
                    // the gateway closed while a frame was being written: the reader tells how
                }
                if (!closing && conn.closeCode.get() == 0) {
                    // a last owed reply, so the reader hears something after everything was sent
                    String last = tag + "-last-" + n;
                    tally.owed.put(last, true);
                    conn.owed.add(last);
                    conn.allSent = true;
                    try {
                        raw.sendText("{\"id\":\"" + last + "\",\"type\":\"ping\"}");
                    } catch (IOException e) {
                        // closed meanwhile: the reader tells how
                    }
                }
                conn.closeAwaited = closing;
                conn.allSent = true;
                reader.join(Duration.ofSeconds(70).toMillis());
                conn.abandoned = true;
                int code = conn.closeCode.get();
                long unanswered = conn.owed.size();
                if (code == 0 && closing) {
                    tally.violations.add(tag + ": no close frame after a frame that must close the connection (" + lastKind + ")");
                } else if (code != 0 && !DOCUMENTED_CLOSES.contains(code)) {
                    tally.violations.add(tag + ": closed with undocumented code " + code);
                } else if (code == 0 && unanswered > 0) {
                    tally.violations.add(tag + ": " + unanswered + " owed replies never came, e.g. "
                            + conn.owed.stream().limit(5).map(id -> id + " " + tally.sent.get(id)).toList());
                }
                if (code != 0) {
                    tally.closes.computeIfAbsent(code, k -> new AtomicInteger()).incrementAndGet();
                    tally.unansweredAtClose.addAndGet(unanswered);
                }
            }
        }
    }

    /** What one fuzzing connection's reader and writer share. */
    static final class Connection {
        /** Ids sent on this connection that are owed a reply and have not had one. */
        final Set<String> owed = ConcurrentHashMap.newKeySet();
        final AtomicInteger closeCode = new AtomicInteger();
        volatile boolean allSent;
        /** A frame that must close the connection was sent: the reader waits for the close frame. */
        volatile boolean closeAwaited;
        /** The writer has stopped waiting for the reader and closes the socket. */
        volatile boolean abandoned;
    }

    /**
     * Counts replies by id until the connection closes (recording the code), or everything was sent, every owed reply
     * has come and no close is awaited. A reply may come to an id once, and only to an id that was sent.
     */
    private static void read(RawWebSocket raw, Connection conn, Tally tally) {
        try {
            while (!(conn.allSent && conn.owed.isEmpty() && !conn.closeAwaited)) {
                RawWebSocket.Frame f;
                try {
                    f = raw.read();
                } catch (SocketTimeoutException e) {
                    return;
                }
                if (f == null) {
                    return;
                }
                if (f.opcode() == RawWebSocket.OP_CLOSE) {
                    conn.closeCode.set(f.closeCode());
                    return;
                }
                JsonNode reply = JSON.readTree(f.text());
                tally.repliesReceived.incrementAndGet();
                JsonNode id = reply.get("id");
                if (id != null && id.isTextual()) {
                    int seen = tally.replies.computeIfAbsent(id.textValue(), k -> new AtomicInteger()).incrementAndGet();
                    if (seen > 1) {
                        tally.violations.add("id " + id.textValue() + " answered " + seen + " times, last: " + reply);
                    }
                    if (!tally.owed.containsKey(id.textValue())) {
                        tally.violations.add("a reply to an id never sent: " + reply);
                    }
                    conn.owed.remove(id.textValue());
                }
            }
        } catch (IOException e) {
            if (!conn.abandoned) {
                tally.violations.add("reading replies failed: " + e);
            }
        }
    }



    @Test
    void everyRequestIsAnsweredOnceNothingBreaksAndMemoryStaysFlat() throws Exception {
        long frames = Long.getLong("fuzz.frames");
        Path db = GatewayProcess.freshDb();
        try (GatewayProcess gw = GatewayProcess.start(db, "fuzz", "-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch",
                "-Ddiminuendo.limits.frames-per-second=1000000", "-Ddiminuendo.limits.frame-burst=1000000",
                "-Ddiminuendo.auth.api-keys.victim.key=victim-key-0123456789",
                "-Ddiminuendo.auth.api-keys.victim.user-id=vic", "-Ddiminuendo.auth.api-keys.victim.tenant-id=other");
                WsClient driver = WsClient.authenticated(gw.ws(), GatewayProcess.API_KEY);
                WsClient victimClient = WsClient.authenticated(gw.ws(), "victim-key-0123456789")) {
            String victim = victimClient.createSession("victim of fuzzing");
            JsonNode victimBefore = victimClient.request("get_session", "sessionId", victim).path("session");
            String own = driver.createSession("fuzz target");
            String streamed = driver.createSession("streams during the fuzz");
            driver.subscribe(streamed);
            HttpClient http = HttpClient.newHttpClient();
            SoakIT.Subscriber watcher = new SoakIT.Subscriber(streamed, SoakIT.Kind.STEADY, http, gw, null);
            watcher.connect();

            // warm up with a tenth of the frames and a turn (the heap grows to its working size), then take the baseline
            Tally warmup = new Tally();
            fuzz(gw, "warm", Math.max(2_000, frames / 10), own, victim, warmup);
            driver.runTurn(streamed, "/sim tokens=200 delay_ms=1");
            double heapBefore = gw.heapAfterGc();
            long rssBefore = gw.rss();

            AtomicBoolean fuzzing = new AtomicBoolean(true);
            AtomicLong turns = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(CONNECTIONS + 1);
            Future<?> streaming = pool.submit(() -> {
                while (fuzzing.get()) {
                    driver.runTurn(streamed, "/sim tokens=200 delay_ms=1");
                    turns.incrementAndGet();
                }
                return null;
            });
            Tally tally = new Tally();
            AtomicLong rssPeak = new AtomicLong(rssBefore);
            ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
            sampler.scheduleAtFixedRate(() -> {
                try {
                    rssPeak.accumulateAndGet(gw.rss(), Math::max);
                } catch (IOException e) {
                    // the process is gone: the assertions below say so
                }
            }, 0, 500, TimeUnit.MILLISECONDS);
            long start = System.nanoTime();
            List<Future<?>> fuzzers = new ArrayList<>();
            for (int c = 0; c < CONNECTIONS; c++) {
                String tag = "c" + c;
                fuzzers.add(pool.submit(() -> {
                    fuzz(gw, tag, frames / CONNECTIONS, own, victim, tally);
                    return null;
                }));
            }
            for (Future<?> f : fuzzers) {
                f.get();
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            fuzzing.set(false);
            streaming.get();
            pool.shutdown();
            sampler.shutdown();

            long lastSeq = driver.request("get_session", "sessionId", streamed).path("session").path("lastSeq").asLong();
            await().atMost(Duration.ofSeconds(30)).until(() -> watcher.lastSeq() >= lastSeq);
            double heapAfter = gw.heapAfterGc();
            long rssAfter = gw.rss();
            long owed = tally.owed.values().stream().filter(b -> b).count();
            long errorLines = gw.log().lines().filter(l -> l.contains("\"level\":\"ERROR\"") || l.contains(" ERROR ")).count();
            String summary = String.format("fuzz: %d frames in %d s from %d connections at a time (%d connections in all), "
                    + "%d replies, %d ids owed a reply, %d of them cut by a documented close, closes %s, violations %d; "
                    + "streaming client: %d turns, %d events, last seq %d; heap after GC %.1f MB -> %.1f MB; "
                    + "RSS %.0f MiB -> %.0f MiB (peak %.0f MiB); ERROR log lines %d", tally.framesSent.get(), took.toSeconds(), CONNECTIONS,
                    CONNECTIONS + tally.closes.values().stream().mapToInt(AtomicInteger::get).sum(),
                    tally.repliesReceived.get(), owed, tally.unansweredAtClose.get(), new TreeMap<>(tally.closes),
                    tally.violations.size(), turns.get(), watcher.events.get(), lastSeq, heapBefore / 1e6,
                    heapAfter / 1e6, rssBefore / 1048576.0, rssAfter / 1048576.0, rssPeak.get() / 1048576.0, errorLines);
            System.out.println(summary);
            Files.writeString(Path.of("target", "fuzz-summary.txt"), summary + System.lineSeparator()
                    + String.join(System.lineSeparator(), tally.violations.stream().limit(20).toList()));

            assertThat(tally.framesSent.get()).isGreaterThanOrEqualTo(frames - CONNECTIONS);
            assertThat(tally.violations).isEmpty();
            assertThat(warmup.violations).isEmpty();
            assertThat(watcher.violation).isNull();
            assertThat(watcher.lastSeq()).isEqualTo(lastSeq);
            assertThat(errorLines).as("ERROR lines in " + gw.log().length() + " chars of log").isZero();
            assertThat(victimClient.request("get_session", "sessionId", victim).path("session")).isEqualTo(victimBefore);
            assertThat(heapAfter).isLessThan(Math.max(heapBefore * 1.5, heapBefore + 32e6));
            assertThat(rssAfter).isLessThan(rssBefore + 64L * 1024 * 1024);
            assertThat(rssPeak.get()).as("under the pod's 512 MiB limit in deploy/").isLessThan(512L * 1024 * 1024);
            watcher.close();
        }
    }
}

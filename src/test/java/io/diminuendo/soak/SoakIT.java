package io.diminuendo.soak;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.support.Events;
import io.diminuendo.support.GatewayProcess;
import io.diminuendo.support.WsClient;

/**
 * A bounded soak against the packaged gateway (a 256 MiB heap, committed and touched at start, so that the RSS moves
 * only with what lives outside the heap: direct buffers, threads, code, native memory): every session runs turns back to back for
 * {@code -Dsoak.minutes} (every fifth session with no delay between its deltas) while hundreds of connections read
 * them. Per session, {@code soak.subscribers} read at full
 * speed, {@code soak.reconnectors} drop their socket every few seconds and resubscribe from the last seq they saw, and
 * {@code soak.slow} stop reading for 3–8 s every 15 s (long enough to fall behind by more than the
 * {@code soak.queue}-frame outbound queue, shorter than the slow-reader timeout). Every one of them must see every event of its session exactly once and in order, across reconnects, and
 * none may be closed by the gateway; live threads, the heap after GC and the RSS must stay flat, the RSS under the
 * 512 MiB limit of {@code deploy/}. Not part of the default build: {@code ./mvnw verify -Dit.test=SoakIT
 * -Dsoak.minutes=3 -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@EnabledIfSystemProperty(named = "soak.minutes", matches = "\\d+")
class SoakIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SESSIONS = Integer.getInteger("soak.sessions", 20);
    private static final int SUBSCRIBERS_PER_SESSION = Integer.getInteger("soak.subscribers", 10);
    private static final int RECONNECTORS_PER_SESSION = Integer.getInteger("soak.reconnectors", 2);
    private static final int SLOW_PER_SESSION = Integer.getInteger("soak.slow", 1);
    /** Frames a connection may queue: small, so that a pausing reader falls behind and catches up from the store. */
    private static final int QUEUE = Integer.getInteger("soak.queue", 1024);
    private static final long RSS_LIMIT = 512L << 20;

    enum Kind { STEADY, RECONNECTING, SLOW }

    /**
     * One reader of a session over one or more connections: the last seq it saw, how many events, and the first
     * violation (a gap, a duplicate, an unparseable frame, a close it did not ask for).
     */
    static final class Subscriber {
        final String sessionId;
        final Kind kind;
        private final HttpClient http;
        private final GatewayProcess gw;
        private final ScheduledExecutorService scheduler;
        long lastSeq; // guarded by this
        final AtomicLong events = new AtomicLong();
        final AtomicLong connects = new AtomicLong();
        volatile long pausedUntil;
        volatile String violation;
        private Connection current; // guarded by this

        Subscriber(String sessionId, Kind kind, HttpClient http, GatewayProcess gw, ScheduledExecutorService scheduler) {
            this.sessionId = sessionId;
            this.kind = kind;
            this.http = http;
            this.gw = gw;
            this.scheduler = scheduler;
        }

        synchronized long lastSeq() {
            return lastSeq;
        }

        /** Opens a new connection that resumes after the last seq seen; the previous one is dropped unread. */
        void connect() {
            long after;
            Connection previous;
            Connection next = new Connection(this);
            synchronized (this) {
                previous = current;
                if (previous != null) {
                    previous.dropped = true; // from here on, nothing it still delivers counts
                }
                current = next;
                after = lastSeq;
            }
            if (previous != null && previous.ws != null) {
                previous.ws.abort();
            }
            next.ws = http.newWebSocketBuilder().header("Authorization", "Bearer " + GatewayProcess.API_KEY)
                    .buildAsync(gw.ws(), next).join();
            next.ws.sendText("{\"type\":\"subscribe\",\"sessionId\":\"" + sessionId + "\",\"afterSeq\":" + after + "}",
                    true).join();
            connects.incrementAndGet();
        }

        /** Ends any pause: reads from now on (a pause's scheduled demand may have been cancelled). */
        void resume() {
            pausedUntil = 0;
            Connection c;
            synchronized (this) {
                c = current;
            }
            if (c != null && c.ws != null) {
                c.ws.request(1);
            }
        }

        void close() {
            Connection c;
            synchronized (this) {
                c = current;
                if (c != null) {
                    c.dropped = true;
                }
            }
            if (c != null && c.ws != null) {
                c.ws.abort();
            }
        }

        private synchronized void onFrame(Connection from, String text) {
            if (from.dropped) {
                return;
            }
            try {
                JsonNode n = JSON.readTree(text);
                if ("event".equals(n.path("type").asText())) {
                    long seq = n.path("seq").asLong();
                    if (seq != lastSeq + 1 && violation == null) {
                        violation = kind + " reader of " + sessionId + ": expected seq " + (lastSeq + 1) + " but got "
                                + seq + " (connection " + connects.get() + ")";
                    }
                    lastSeq = seq;
                    events.incrementAndGet();
                } else if ("error".equals(n.path("type").asText()) && violation == null) {
                    violation = kind + " reader of " + sessionId + " got an error: " + text;
                }
            } catch (Exception e) {
                violation = "unparseable frame";
            }
        }

        private synchronized void onClosed(Connection from, String how) {
            if (!from.dropped && violation == null) {
                violation = kind + " reader of " + sessionId + " was closed by the gateway: " + how;
            }
        }

        /** Asks for the next frame now, or when this reader's pause ends. */
        private void demand(WebSocket ws) {
            long wait = pausedUntil - System.nanoTime();
            if (wait > 0) {
                scheduler.schedule(() -> ws.request(1), wait, TimeUnit.NANOSECONDS);
            } else {
                ws.request(1);
            }
        }
    }

    /** One WebSocket of a {@link Subscriber}. */
    static final class Connection implements WebSocket.Listener {
        private final Subscriber owner;
        private final StringBuilder partial = new StringBuilder();
        volatile boolean dropped;
        volatile WebSocket ws;

        Connection(Subscriber owner) {
            this.owner = owner;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                owner.onFrame(this, partial.toString());
                partial.setLength(0);
            }
            owner.demand(ws);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            owner.onClosed(this, statusCode + " " + reason);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            owner.onClosed(this, String.valueOf(error));
        }
    }

    @Test
    void everyReaderGetsEveryEventOnceInOrderAcrossReconnectsAndPausesAndResourcesStayFlat() throws Exception {
        long minutes = Long.getLong("soak.minutes");
        Path db = GatewayProcess.freshDb();
        ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
        try (GatewayProcess gw = GatewayProcess.start(db, "soak", "-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch",
                "-Ddiminuendo.limits.max-connections-per-user=1000", "-Ddiminuendo.limits.outbound-queue=" + QUEUE)) {
            HttpClient http = HttpClient.newHttpClient();
            WsClient driver = WsClient.authenticated(gw.ws(), GatewayProcess.API_KEY);
            List<String> sessions = new ArrayList<>();
            List<Subscriber> readers = new ArrayList<>();
            for (int s = 0; s < SESSIONS; s++) {
                String id = driver.createSession("soak " + s);
                driver.request("subscribe", "sessionId", id);
                sessions.add(id);
                for (int k = 0; k < SUBSCRIBERS_PER_SESSION + RECONNECTORS_PER_SESSION + SLOW_PER_SESSION; k++) {
                    Kind kind = k < SUBSCRIBERS_PER_SESSION ? Kind.STEADY
                            : k < SUBSCRIBERS_PER_SESSION + RECONNECTORS_PER_SESSION ? Kind.RECONNECTING : Kind.SLOW;
                    Subscriber reader = new Subscriber(id, kind, http, gw, scheduler);
                    reader.connect();
                    readers.add(reader);
                }
            }
            for (Subscriber r : readers) {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                if (r.kind == Kind.RECONNECTING) {
                    long every = random.nextLong(3_000, 10_000);
                    scheduler.scheduleWithFixedDelay(r::connect, every, every, TimeUnit.MILLISECONDS);
                } else if (r.kind == Kind.SLOW) {
                    scheduler.scheduleAtFixedRate(() -> r.pausedUntil = System.nanoTime()
                            + TimeUnit.MILLISECONDS.toNanos(ThreadLocalRandom.current().nextLong(3_000, 8_000)),
                            random.nextLong(15_000), 15_000, TimeUnit.MILLISECONDS);
                }
            }
            double threadsAtStart = gw.metric("jvm_threads_live_threads", "");
            double heapAtStart = -1;
            long rssAtStart = -1;
            long rssPeak = 0;
            long deadline = System.nanoTime() + Duration.ofMinutes(minutes).toNanos();
            long warmupEnd = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            long turns = 0;
            while (System.nanoTime() < deadline) {
                for (int s = 0; s < sessions.size(); s++) {
                    // every fifth session streams as fast as the gateway takes it: bursts that pausing readers
                    // cannot keep in their socket buffers
                    driver.request("send_message", "sessionId", sessions.get(s), "text",
                            s % 5 == 0 ? "/sim tokens=1000 delay_ms=0" : "/sim tokens=200 delay_ms=1");
                }
                for (String id : sessions) {
                    driver.await(n -> Events.isEventOf(n, id) && Events.isTerminal(n), Duration.ofSeconds(60));
                    turns++;
                }
                driver.drain();
                rssPeak = Math.max(rssPeak, gw.rss());
                if (heapAtStart < 0 && System.nanoTime() > warmupEnd) {
                    heapAtStart = gw.heapAfterGc();
                    rssAtStart = gw.rss();
                }
            }
            scheduler.shutdownNow();
            scheduler.awaitTermination(10, TimeUnit.SECONDS);
            readers.forEach(Subscriber::resume);
            long lastSeqTotal = 0;
            long delivered = 0;
            long reconnects = 0;
            for (String id : sessions) {
                long lastSeq = driver.request("get_session", "sessionId", id).path("session").path("lastSeq").asLong();
                lastSeqTotal += lastSeq;
                for (Subscriber r : readers) {
                    if (!r.sessionId.equals(id)) {
                        continue;
                    }
                    await().atMost(Duration.ofSeconds(60)).until(() -> r.lastSeq() >= lastSeq || r.violation != null);
                    assertThat(r.violation).isNull();
                    assertThat(r.lastSeq()).isEqualTo(lastSeq);
                    delivered += r.events.get();
                    reconnects += r.connects.get() - 1;
                }
            }
            double cut = gw.metric("diminuendo_connections_slow_consumer_closes_total", "");
            double catchUps = gw.metric("diminuendo_subscriptions_behind_catch_ups_total", "");
            double threadsAtEnd = gw.metric("jvm_threads_live_threads", "");
            double heapAtEnd = gw.heapAfterGc();
            long rssAtEnd = gw.rss();
            String summary = String.format("soak: %d min, %d connections (%d reconnecting, %d pausing), %d turns, %d events"
                    + " stored, %d deliveries, lost 0, %d reconnects, %.0f catch-ups from the store, %.0f cut; threads"
                    + " %.0f -> %.0f; heap after GC %.1f MB -> %.1f MB; RSS %d MiB -> %d MiB, peak %d MiB", minutes,
                    readers.size() + 1, SESSIONS * RECONNECTORS_PER_SESSION, SESSIONS * SLOW_PER_SESSION, turns,
                    lastSeqTotal, delivered, reconnects, catchUps, cut, threadsAtStart, threadsAtEnd, heapAtStart / 1e6,
                    heapAtEnd / 1e6, rssAtStart >> 20, rssAtEnd >> 20, rssPeak >> 20);
            System.out.println(summary);
            Files.writeString(Path.of("target", "soak-summary.txt"), summary + System.lineSeparator());
            assertThat(cut).as("readers cut as slow consumers").isZero();
            assertThat(catchUps).as("pausing readers that fell behind and caught up from the store").isGreaterThan(0);
            assertThat(reconnects).as("reconnects made").isGreaterThan(0);
            assertThat(threadsAtEnd).isLessThanOrEqualTo(threadsAtStart + 8);
            assertThat(heapAtEnd).isLessThan(Math.max(heapAtStart * 1.5, heapAtStart + 32e6));
            assertThat(rssPeak).as("peak RSS (bytes)").isLessThan(RSS_LIMIT);
            assertThat(rssAtEnd).as("RSS at the end against 30 s in (bytes)").isLessThan(rssAtStart + (64L << 20));
            readers.forEach(Subscriber::close);
            driver.close();
        } finally {
            scheduler.shutdownNow();
        }
    }
}

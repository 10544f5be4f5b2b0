package io.diminuendo.soak;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.support.Events;
import io.diminuendo.support.GatewayProcess;
import io.diminuendo.support.WsClient;

/**
 * A bounded soak against the packaged gateway: hundreds of subscribers on a set of sessions while every session
 * runs turns back to back for {@code -Dsoak.minutes}. Every subscriber must see every event of its session, in
 * order; the gateway's live threads and post-GC heap must stay flat. Not part of the default build:
 * {@code ./mvnw verify -Dit.test=SoakIT -Dsoak.minutes=3 -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@EnabledIfSystemProperty(named = "soak.minutes", matches = "\\d+")
class SoakIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SESSIONS = Integer.getInteger("soak.sessions", 20);
    private static final int SUBSCRIBERS_PER_SESSION = Integer.getInteger("soak.subscribers", 10);

    /** A subscriber that keeps only what the check needs: the last seq and any violation. */
    static final class Checker implements WebSocket.Listener {
        final AtomicLong lastSeq = new AtomicLong();
        final AtomicLong events = new AtomicLong();
        volatile String violation;
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    JsonNode n = JSON.readTree(partial.toString());
                    if ("event".equals(n.path("type").asText())) {
                        long seq = n.path("seq").asLong();
                        if (seq != lastSeq.get() + 1 && violation == null) {
                            violation = "expected seq " + (lastSeq.get() + 1) + " but got " + seq;
                        }
                        lastSeq.set(seq);
                        events.incrementAndGet();
                    }
                } catch (Exception e) {
                    violation = "unparseable frame";
                }
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }
    }


    @Test
    void everySubscriberGetsEveryEventInOrderAndResourcesStayFlat() throws Exception {
        long minutes = Long.getLong("soak.minutes");
        Path db = GatewayProcess.freshDb();
        try (GatewayProcess gw = GatewayProcess.start(db, "soak", "-Xmx512m",
                "-Ddiminuendo.limits.max-connections-per-user=1000")) {
            HttpClient http = HttpClient.newHttpClient();
            WsClient driver = WsClient.authenticated(gw.ws(), GatewayProcess.API_KEY);
            List<String> sessions = new ArrayList<>();
            List<List<Checker>> checkers = new ArrayList<>();
            List<WebSocket> sockets = new ArrayList<>();
            for (int s = 0; s < SESSIONS; s++) {
                String id = driver.createSession("soak " + s);
                driver.request("subscribe", "sessionId", id);
                sessions.add(id);
                List<Checker> perSession = new ArrayList<>();
                for (int k = 0; k < SUBSCRIBERS_PER_SESSION; k++) {
                    Checker checker = new Checker();
                    WebSocket ws = http.newWebSocketBuilder().header("Authorization", "Bearer " + GatewayProcess.API_KEY)
                            .buildAsync(gw.ws(), checker).join();
                    ws.sendText("{\"type\":\"subscribe\",\"sessionId\":\"" + id + "\",\"afterSeq\":0}", true).join();
                    sockets.add(ws);
                    perSession.add(checker);
                }
                checkers.add(perSession);
            }
            double threadsAtStart = gw.metric("jvm_threads_live_threads", "");
            double heapAtStart = -1;
            long deadline = System.nanoTime() + Duration.ofMinutes(minutes).toNanos();
            long warmupEnd = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            long turns = 0;
            while (System.nanoTime() < deadline) {
                for (String id : sessions) {
                    driver.request("send_message", "sessionId", id, "text", "/sim tokens=200 delay_ms=1");
                }
                for (String id : sessions) {
                    driver.await(n -> Events.isEventOf(n, id) && Events.isTerminal(n),
                            Duration.ofSeconds(60));
                    turns++;
                }
                driver.drain();
                if (heapAtStart < 0 && System.nanoTime() > warmupEnd) {
                    heapAtStart = gw.heapAfterGc();
                }
            }
            long lastSeqTotal = 0;
            long delivered = 0;
            for (int s = 0; s < SESSIONS; s++) {
                long lastSeq = driver.request("get_session", "sessionId", sessions.get(s)).path("session").path("lastSeq").asLong();
                lastSeqTotal += lastSeq;
                for (Checker c : checkers.get(s)) {
                    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> c.lastSeq.get() >= lastSeq);
                    assertThat(c.violation).isNull();
                    assertThat(c.lastSeq.get()).isEqualTo(lastSeq);
                    delivered += c.events.get();
                }
            }
            double threadsAtEnd = gw.metric("jvm_threads_live_threads", "");
            double heapAtEnd = gw.heapAfterGc();
            String summary = String.format("soak: %d min, %d connections, %d turns, %d events stored, %d deliveries, lost 0; "
                    + "threads %.0f -> %.0f; heap after GC %.1f MB -> %.1f MB", minutes, sockets.size() + 1, turns,
                    lastSeqTotal, delivered, threadsAtStart, threadsAtEnd, heapAtStart / 1e6, heapAtEnd / 1e6);
            System.out.println(summary);
            Files.writeString(Path.of("target", "soak-summary.txt"), summary + System.lineSeparator());
            assertThat(threadsAtEnd).isLessThanOrEqualTo(threadsAtStart + 8);
            assertThat(heapAtEnd).isLessThan(Math.max(heapAtStart * 1.5, heapAtStart + 32e6));
            sockets.forEach(WebSocket::abort);
            driver.close();
        }
    }
}

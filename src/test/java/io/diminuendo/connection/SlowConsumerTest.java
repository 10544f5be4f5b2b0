package io.diminuendo.connection;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.support.RawWebSocket;
import io.diminuendo.support.Tenants;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * A client that stops reading is closed with 4009 once its outbound queue (64 frames here) overflows, while a
 * client of the same session that keeps reading gets every event of the turn; the closed client reconnects with
 * {@code afterSeq} and loses nothing (PROTOCOL.md §1.2).
 * <p>
 * The stalled client is a raw socket that stops reading after {@code subscribed}. The server's send buffer is
 * fixed small (test profile) so the outbound queue, not a multi-megabyte loopback socket buffer, is what fills.
 * The turn is paced ({@code delay_ms=1}): at {@code delay_ms=0} the simulated agent publishes bursts of 256
 * events at once, more than a 64-frame queue holds even for a client that reads as fast as it can.
 */
@QuarkusTest
@TestProfile(SlowConsumerTest.SmallOutboundQueue.class)
class SlowConsumerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int TOKENS = 2_000;
    private static final Set<String> TERMINAL = Set.of("turn_completed", "turn_failed", "turn_cancelled");

    public static class SmallOutboundQueue implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("diminuendo.limits.outbound-queue", "64",
                    "diminuendo-test.server-send-buffer-bytes", "8192");
        }
    }

    @TestHTTPResource("/ws")
    URI ws;

    @Test
    void closesAClientThatStopsReadingWith4009WhileAReaderOfTheSameSessionGetsEveryEvent() throws Exception {
        String token = Tenants.token(Tenants.fresh("slow"), "alice");
        double closesBefore = slowConsumerCloses();
        try (WsClient sender = WsClient.authenticated(ws, token);
                WsClient reader = WsClient.authenticated(ws, token);
                RawWebSocket stalled = RawWebSocket.connect(ws, 4096)) {
            String sessionId = sender.createSession("slow consumer");
            subscribeAndStopReading(stalled, token, sessionId);
            assertThat(reader.request("subscribe", "sessionId", sessionId).path("type").asText()).isEqualTo("subscribed");

            JsonNode accepted = sender.request("send_message", "sessionId", sessionId,
                    "text", "/sim tokens=" + TOKENS + " delay_ms=1");
            assertThat(accepted.path("type").asText()).isEqualTo("message_accepted");
            List<JsonNode> events = reader.eventsUntilTurnEnds(sessionId);
            assertThat(reader.isClosed()).as("the client that kept reading is still connected").isFalse();
            assertWholeTurn(events, accepted.path("turnId").asText());
            long firstSeq = events.get(0).path("seq").asLong();
            long lastSeq = events.get(events.size() - 1).path("seq").asLong();

            assertThat(slowConsumerCloses()).as("slow consumer closes").isEqualTo(closesBefore + 1);
            Received cutOff = readUntilClosed(stalled);
            assertThat(cutOff.closeCode()).as("close frame, if it got through").isIn(null, 4009);
            assertThat(cutOff.seqs()).as("the stalled client got a prefix of the turn, not all of it")
                    .isNotEmpty().hasSizeLessThan(events.size());
            assertContiguous(cutOff.seqs(), firstSeq);

            long resumeAfter = cutOff.seqs().get(cutOff.seqs().size() - 1);
            try (WsClient resumed = WsClient.authenticated(ws, token)) {
                List<JsonNode> frames = resume(resumed, sessionId, resumeAfter);
                JsonNode subscribed = frames.get(frames.size() - 1);
                assertThat(subscribed.path("type").asText()).as("subscribed follows the replay").isEqualTo("subscribed");
                assertThat(subscribed.path("lastSeq").asLong()).isEqualTo(lastSeq);
                List<Long> seqs = frames.subList(0, frames.size() - 1).stream().map(f -> f.path("seq").asLong()).toList();
                assertContiguous(seqs, resumeAfter + 1);
                assertThat(seqs).last().isEqualTo(lastSeq);
                assertThat(frames.get(frames.size() - 2).path("kind").asText()).isEqualTo("turn_completed");
                assertThat(resumed.isClosed()).isFalse();
            }
        }
    }

    @Test
    void aClientCutOffMidTurnResumesWithAfterSeqWhileTheTurnRunsAndLosesNothing() throws Exception {
        String token = Tenants.token(Tenants.fresh("slow-resume"), "bob");
        double closesBefore = slowConsumerCloses();
        try (WsClient sender = WsClient.authenticated(ws, token);
                RawWebSocket stalled = RawWebSocket.connect(ws, 4096)) {
            String sessionId = sender.createSession("resume mid-turn");
            subscribeAndStopReading(stalled, token, sessionId);
            JsonNode accepted = sender.request("send_message", "sessionId", sessionId,
                    "text", "/sim tokens=" + TOKENS + " delay_ms=1");
            assertThat(accepted.path("type").asText()).isEqualTo("message_accepted");

            await().atMost(Duration.ofSeconds(20)).until(() -> slowConsumerCloses() > closesBefore);
            Received cutOff = readUntilClosed(stalled);
            assertThat(cutOff.closeCode()).isIn(null, 4009);
            assertThat(cutOff.seqs()).isNotEmpty();
            assertContiguous(cutOff.seqs(), 1);
            long resumeAfter = cutOff.seqs().get(cutOff.seqs().size() - 1);

            try (WsClient resumed = WsClient.authenticated(ws, token)) {
                List<JsonNode> frames = resume(resumed, sessionId, resumeAfter);
                JsonNode get = sender.request("get_session", "sessionId", sessionId);
                long lastSeq = get.path("session").path("lastSeq").asLong();
                int subscribedAt = -1;
                List<Long> seqs = new ArrayList<>();
                for (int i = 0; i < frames.size(); i++) {
                    if ("subscribed".equals(frames.get(i).path("type").asText())) {
                        subscribedAt = i;
                    } else {
                        seqs.add(frames.get(i).path("seq").asLong());
                    }
                }
                assertThat(subscribedAt).as("subscribed arrived").isNotNegative();
                long boundary = frames.get(subscribedAt).path("lastSeq").asLong();
                assertThat(subscribedAt).as("replayed events precede subscribed").isEqualTo((int) (boundary - resumeAfter));
                assertContiguous(seqs, resumeAfter + 1);
                assertThat(seqs).last().isEqualTo(lastSeq);
                assertThat(frames.get(frames.size() - 1).path("kind").asText()).isEqualTo("turn_completed");
                assertThat(resumed.isClosed()).isFalse();
            }
        }
    }

    private static void subscribeAndStopReading(RawWebSocket stalled, String token, String sessionId) throws IOException {
        stalled.sendText("{\"type\":\"authenticate\",\"id\":\"a\",\"token\":\"" + token + "\"}");
        stalled.readTextUntil("\"authenticated\"");
        stalled.sendText("{\"type\":\"subscribe\",\"id\":\"s\",\"sessionId\":\"" + sessionId + "\"}");
        stalled.readTextUntil("\"subscribed\"");
    }

    /** What a cut-off client finds when it finally reads: the event seqs it was sent and the close code, if any. */
    private record Received(List<Long> seqs, Integer closeCode) {
    }

    private static Received readUntilClosed(RawWebSocket stalled) throws IOException {
        stalled.readTimeout(Duration.ofSeconds(20));
        List<Long> seqs = new ArrayList<>();
        for (RawWebSocket.Frame f = stalled.read(); f != null; f = stalled.read()) {
            if (f.opcode() == RawWebSocket.OP_CLOSE) {
                return new Received(seqs, f.closeCode());
            }
            JsonNode frame = JSON.readTree(f.text());
            if ("event".equals(frame.path("type").asText())) {
                seqs.add(frame.path("seq").asLong());
            }
        }
        return new Received(seqs, null);
    }

    /** Subscribes with {@code afterSeq} and returns the events and the subscribed reply in arrival order, through the turn's end. */
    private static List<JsonNode> resume(WsClient client, String sessionId, long afterSeq) {
        String id = WsClient.nextId();
        client.send(WsClient.frame("subscribe", "sessionId", sessionId, "afterSeq", afterSeq).put("id", id));
        List<JsonNode> frames = new ArrayList<>();
        boolean subscribed = false;
        boolean ended = false;
        while (!subscribed || !ended) {
            JsonNode f = client.await(n -> "subscribed".equals(n.path("type").asText())
                    || "event".equals(n.path("type").asText()) && sessionId.equals(n.path("sessionId").asText()));
            frames.add(f);
            subscribed |= "subscribed".equals(f.path("type").asText());
            ended |= TERMINAL.contains(f.path("kind").asText());
        }
        return frames;
    }

    /** user_message, turn_started, the text deltas, usage, turn_completed: contiguous seqs, one turn. */
    private static void assertWholeTurn(List<JsonNode> events, String turnId) {
        assertThat(events.get(0).path("kind").asText()).isEqualTo("user_message");
        assertThat(events.get(events.size() - 1).path("kind").asText()).isEqualTo("turn_completed");
        assertContiguous(events.stream().map(e -> e.path("seq").asLong()).toList(), events.get(0).path("seq").asLong());
        assertThat(events).allSatisfy(e -> assertThat(e.path("turnId").asText()).isEqualTo(turnId));
        assertThat(events).filteredOn(e -> "text_delta".equals(e.path("kind").asText())).hasSize(TOKENS);
    }

    private static void assertContiguous(List<Long> seqs, long first) {
        for (int i = 0; i < seqs.size(); i++) {
            assertThat(seqs.get(i)).as("seq #%d", i).isEqualTo(first + i);
        }
    }

    private static double slowConsumerCloses() {
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        return metrics.lines().filter(l -> l.startsWith("diminuendo_connections_slow_consumer_closes_total"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }
}

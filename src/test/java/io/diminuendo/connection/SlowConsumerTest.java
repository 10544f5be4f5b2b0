package io.diminuendo.connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.support.Metrics;
import io.diminuendo.support.RawWebSocket;
import io.diminuendo.support.SmallOutboundQueue;
import io.diminuendo.support.Tenants;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
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
 * <p>
 * A client resuming while the turn still streams is not cut again: the live events arriving during its replay
 * are more than its buffer holds (16 frames, a quarter of the queue), so the replay catches up from the store
 * until the rest fits, and only then sends {@code subscribed} and goes live (ReplayService).
 */
@QuarkusTest
@TestProfile(SmallOutboundQueue.class)
class SlowConsumerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int TOKENS = 2_000;
    private static final Set<String> TERMINAL = Set.of("turn_completed", "turn_failed", "turn_cancelled");

    @TestHTTPResource("/ws")
    URI ws;

    @Test
    void closesAClientThatStopsReadingWith4009WhileAReaderOfTheSameSessionGetsEveryEvent() throws Exception {
        String token = Tenants.token(Tenants.fresh("slow"), "alice");
        double closesBefore = Metrics.slowConsumerCloses();
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

            assertThat(Metrics.slowConsumerCloses()).as("slow consumer closes").isEqualTo(closesBefore + 1);
            Received cutOff = readUntilClosed(stalled);
            assertThat(cutOff.closeCode()).as("close frame, if it got through").isIn(null, 4009);
            assertThat(cutOff.seqs()).as("the stalled client got a prefix of the turn, not all of it")
                    .isNotEmpty().hasSizeLessThan(events.size());
            assertContiguous(cutOff.seqs(), firstSeq);

            long resumeAfter = cutOff.seqs().get(cutOff.seqs().size() - 1);
            Attempt resumed = resumeOnce(token, sessionId, resumeAfter);
            assertThat(resumed.cut()).as("resuming after the turn ended is not cut").isFalse();
            List<JsonNode> frames = resumed.frames();
            JsonNode subscribed = frames.get(frames.size() - 1);
            assertThat(subscribed.path("type").asText()).as("subscribed follows the replay").isEqualTo("subscribed");
            assertThat(subscribed.path("lastSeq").asLong()).isEqualTo(lastSeq);
            List<Long> seqs = resumed.seqs();
            assertContiguous(seqs, resumeAfter + 1);
            assertThat(seqs).last().isEqualTo(lastSeq);
            assertThat(frames.get(frames.size() - 2).path("kind").asText()).isEqualTo("turn_completed");
        }
    }

    @Test
    void aClientCutOffMidTurnResumesWithAfterSeqWhileTheTurnRunsIsNotCutAgainAndLosesNothing() throws Exception {
        String token = Tenants.token(Tenants.fresh("slow-resume"), "bob");
        double closesBefore = Metrics.slowConsumerCloses();
        try (WsClient sender = WsClient.authenticated(ws, token);
                RawWebSocket stalled = RawWebSocket.connect(ws, 4096)) {
            String sessionId = sender.createSession("resume mid-turn");
            subscribeAndStopReading(stalled, token, sessionId);
            JsonNode accepted = sender.request("send_message", "sessionId", sessionId,
                    "text", "/sim tokens=" + TOKENS + " delay_ms=1");
            assertThat(accepted.path("type").asText()).isEqualTo("message_accepted");

            await().atMost(Duration.ofSeconds(20)).until(() -> Metrics.slowConsumerCloses() > closesBefore);
            Received cutOff = readUntilClosed(stalled);
            assertThat(cutOff.closeCode()).isIn(null, 4009);
            assertThat(cutOff.seqs()).isNotEmpty();
            assertContiguous(cutOff.seqs(), 1);
            long resumeAfter = cutOff.seqs().get(cutOff.seqs().size() - 1);

            double roundsBefore = Metrics.catchUpRounds();
            Attempt resumed = resumeOnce(token, sessionId, resumeAfter);
            assertThat(resumed.cut()).as("the client resuming while the turn streams is not cut again").isFalse();
            assertThat(Metrics.slowConsumerCloses()).as("slow consumer closes").isEqualTo(closesBefore + 1);
            resumed.assertSubscribedAtTheReplayBoundary();
            List<JsonNode> frames = resumed.frames();
            assertThat(frames.stream().filter(f -> "event".equals(f.path("type").asText())).reduce((a, b) -> b)
                    .orElseThrow().path("kind").asText()).isEqualTo("turn_completed");
            long lastSeq = sender.request("get_session", "sessionId", sessionId).path("session").path("lastSeq").asLong();
            List<Long> received = resumed.seqs();
            assertContiguous(received, resumeAfter + 1);
            assertThat(received).last().isEqualTo(lastSeq);
            JsonNode subscribed = frames.stream().filter(f -> "subscribed".equals(f.path("type").asText())).findFirst().orElseThrow();
            System.out.printf("resumed mid-turn after seq %d: %d events, subscribed at seq %d of %d, %.0f catch-up rounds%n",
                    resumeAfter, received.size(), subscribed.path("lastSeq").asLong(), lastSeq,
                    Metrics.catchUpRounds() - roundsBefore);
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

    /** One resumption: the events and the subscribed reply in arrival order, and whether it was cut with 4009. */
    private record Attempt(long afterSeq, List<JsonNode> frames, boolean cut) {
        List<Long> seqs() {
            return frames.stream().filter(f -> "event".equals(f.path("type").asText())).map(f -> f.path("seq").asLong()).toList();
        }

        /** Replayed events (up to subscribed.lastSeq) precede subscribed; live ones follow it. */
        void assertSubscribedAtTheReplayBoundary() {
            for (int i = 0; i < frames.size(); i++) {
                JsonNode f = frames.get(i);
                if ("subscribed".equals(f.path("type").asText())) {
                    assertThat(i).as("replayed events before subscribed").isEqualTo((int) (f.path("lastSeq").asLong() - afterSeq));
                }
            }
        }
    }

    /** Connects, subscribes with {@code afterSeq} and reads through the turn's end, or until the gateway cuts it. */
    private Attempt resumeOnce(String token, String sessionId, long afterSeq) {
        try (WsClient client = WsClient.authenticated(ws, token)) {
            String id = WsClient.nextId();
            client.send(WsClient.frame("subscribe", "sessionId", sessionId, "afterSeq", afterSeq).put("id", id));
            List<JsonNode> frames = new ArrayList<>();
            boolean subscribed = false;
            boolean ended = false;
            long deadline = System.nanoTime() + WsClient.TIMEOUT.toNanos();
            while (!subscribed || !ended) {
                JsonNode f;
                try {
                    f = client.await(n -> "subscribed".equals(n.path("type").asText())
                            || "event".equals(n.path("type").asText()) && sessionId.equals(n.path("sessionId").asText()),
                            Duration.ofMillis(200));
                } catch (AssertionError nothingYet) {
                    if (client.isClosed()) {
                        assertThat(client.awaitClose()).as("close code of a resuming client").isEqualTo(4009);
                        return new Attempt(afterSeq, frames, true);
                    }
                    if (System.nanoTime() > deadline) {
                        throw nothingYet;
                    }
                    continue;
                }
                deadline = System.nanoTime() + WsClient.TIMEOUT.toNanos();
                frames.add(f);
                subscribed |= "subscribed".equals(f.path("type").asText());
                ended |= TERMINAL.contains(f.path("kind").asText());
            }
            return new Attempt(afterSeq, frames, false);
        }
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

}

package io.diminuendo.connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import jakarta.inject.Inject;

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
 * The outbound queue is bounded in bytes as well as in frames (256 KiB and 64 frames in this profile): a client that
 * stops reading large events falls behind before its queued bytes reach the budget (the rest waits in the store) and
 * is cut with 4009 once it has read nothing for the slow-reader timeout, a {@code history} reply holds at most
 * {@code max-reply-bytes} of events, and a client that asks for history without reading the replies is refused
 * with {@code rate_limited} instead of having them pile up.
 */
@QuarkusTest
@TestProfile(SmallOutboundQueue.class)
class OutboundBytesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A prompt of about 60 KB (client frames are limited to 64 KiB here): its {@code user_message} is a large frame. */
    private static final String PADDING = " pad".repeat(15_000);

    @TestHTTPResource("/ws")
    URI ws;

    @Inject
    OutboundBytes total;

    @Test
    void aClientThatStopsReadingLargeEventsFallsBehindWithinItsByteBudgetAndIsCutWith4009AfterTheSlowReaderTimeout()
            throws Exception {
        String token = Tenants.token(Tenants.fresh("bytes"), "alice");
        double hitsBefore = Metrics.sum("diminuendo_limit_hits_total", "limit=\"outbound_bytes\"");
        double closesBefore = Metrics.slowConsumerCloses();
        try (WsClient sender = WsClient.authenticated(ws, token);
                RawWebSocket stalled = RawWebSocket.connect(ws, 4096)) {
            String sessionId = sender.createSession("large events");
            sender.subscribe(sessionId);
            stalled.authenticate(token);
            stalled.sendText("{\"type\":\"subscribe\",\"id\":\"s\",\"sessionId\":\"" + sessionId + "\"}");
            stalled.readTextUntil("\"subscribed\"");
            runLargeTurns(sender, sessionId, 8);
            await().atMost(Duration.ofSeconds(10)).until(() -> Metrics.slowConsumerCloses() > closesBefore);
            // its live events stop at three quarters of the budget and wait in the store: the budget is never hit
            assertThat(Metrics.sum("diminuendo_limit_hits_total", "limit=\"outbound_bytes\""))
                    .as("outbound byte budget hits").isEqualTo(hitsBefore);
            stalled.readTimeout(Duration.ofSeconds(10));
            Integer closeCode = null;
            int events = 0;
            for (RawWebSocket.Frame f = stalled.read(); f != null; f = stalled.read()) {
                if (f.opcode() == RawWebSocket.OP_CLOSE) {
                    closeCode = f.closeCode();
                    break;
                }
                events++;
            }
            assertThat(closeCode).as("close frame, if it got through").isIn(null, 4009);
            assertThat(events).as("frames the stalled client got, far below the 64-frame bound").isLessThan(30);
            assertThat(sender.isClosed()).as("the reader of the same session stays connected").isFalse();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> total.total() == 0);
    }

    @Test
    void aHistoryReplyHoldsAtMostMaxReplyBytesAndPagingWithAfterSeqReturnsEveryEvent() {
        String token = Tenants.token(Tenants.fresh("bytes-history"), "bob");
        try (WsClient c = WsClient.authenticated(ws, token)) {
            String sessionId = c.createSession("paged");
            c.subscribe(sessionId);
            runLargeTurns(c, sessionId, 3);
            JsonNode page = c.request("history", "sessionId", sessionId, "afterSeq", 0, "limit", 1000);
            assertThat(page.path("lastSeq").asLong()).isEqualTo(15);
            assertThat(page.path("events")).as("events that fit into 64 KiB: the first turn, up to the next user_message")
                    .extracting(e -> e.path("seq").asLong()).containsExactly(1L, 2L, 3L, 4L, 5L);
            List<JsonNode> all = c.history(sessionId);
            assertThat(all).extracting(e -> e.path("seq").asLong()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L,
                    9L, 10L, 11L, 12L, 13L, 14L, 15L);
        }
    }

    @Test
    void aClientThatAsksForHistoryWithoutReadingTheRepliesIsRefusedWithRateLimited() throws Exception {
        String token = Tenants.token(Tenants.fresh("bytes-refused"), "carol");
        double refusedBefore = Metrics.sum("diminuendo_limit_hits_total", "limit=\"history_wait\"");
        try (WsClient sender = WsClient.authenticated(ws, token);
                RawWebSocket hostile = RawWebSocket.connect(ws, 4096)) {
            String sessionId = sender.createSession("long");
            sender.subscribe(sessionId);
            runLargeTurns(sender, sessionId, 8);
            hostile.authenticate(token);
            int requests = 40;
            for (int i = 0; i < requests; i++) {
                hostile.sendText("{\"type\":\"history\",\"id\":\"h" + i + "\",\"sessionId\":\"" + sessionId
                        + "\",\"afterSeq\":0,\"limit\":1000}");
            }
            // at most MAX_WAITING wait at a time; how many of the others are refused at once depends on how many
            // replies the socket took before the burst was read (the kernel buffers some), the rest time out
            await().atMost(Duration.ofSeconds(10)).until(() -> Metrics.sum("diminuendo_limit_hits_total",
                    "limit=\"history_wait\"") > refusedBefore);

            hostile.readTimeout(Duration.ofSeconds(30));
            List<String> answered = new ArrayList<>();
            List<String> refused = new ArrayList<>();
            while (answered.size() + refused.size() < requests) {
                RawWebSocket.Frame f = hostile.read();
                assertThat(f).as("frame").isNotNull();
                assertThat(f.opcode()).as("not closed").isEqualTo(RawWebSocket.OP_TEXT);
                JsonNode n = JSON.readTree(f.text());
                if ("history".equals(n.path("type").asText())) {
                    answered.add(n.path("id").asText());
                } else {
                    assertThat(n.path("type").asText()).isEqualTo("error");
                    assertThat(n.path("code").asText()).isEqualTo("rate_limited");
                    refused.add(n.path("id").asText());
                }
            }
            assertThat(refused).as("requests refused").isNotEmpty();
            assertThat(answered).as("requests answered once the client read").isNotEmpty();
            List<String> all = new ArrayList<>(answered);
            all.addAll(refused);
            assertThat(all).as("every request answered exactly once").doesNotHaveDuplicates().hasSize(requests);
        }
    }

    /** Runs {@code turns} turns whose prompts of about 60 KB make large {@code user_message} events. */
    static void runLargeTurns(WsClient client, String sessionId, int turns) {
        for (int i = 0; i < turns; i++) {
            client.runTurn(sessionId, "/sim tokens=1 delay_ms=0" + PADDING);
        }
    }
}

package io.diminuendo.connection;

import static io.diminuendo.support.Events.seqRange;
import static io.diminuendo.support.Events.seqs;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.Metrics;
import io.diminuendo.support.RawWebSocket;
import io.diminuendo.support.Tenants;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * The process-wide budget of outbound bytes ({@code outbound-bytes-total}, 512 KiB here) cuts the connection whose
 * frame would pass it, although that connection is within its own budget. Each connection may queue 512 KiB too (the
 * most the configuration allows: the total must be at least the per-connection budget), and a {@code history} reply
 * of at most 160 KiB is read only while its connection has at most half of its budget queued, so one client that
 * asks for history and never reads holds at most about 416 KiB: never its own budget, but two such clients together
 * pass the total. The second is cut with 4009 and counted as {@code limit="outbound_bytes_total"}, and a client that
 * reads still gets a whole turn.
 */
@QuarkusTest
@TestProfile(OutboundBytesTotalTest.SmallTotalBudget.class)
class OutboundBytesTotalTest {
    private static final long BUDGET = 512 * 1024;
    private static final int TOKENS = 500;

    public static class SmallTotalBudget implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("diminuendo.limits.outbound-bytes-total", String.valueOf(BUDGET),
                    "diminuendo.limits.outbound-bytes", String.valueOf(BUDGET),
                    "diminuendo.limits.max-reply-bytes", String.valueOf(160 * 1024),
                    // the queue, not a multi-megabyte loopback socket buffer, fills when a client stops reading
                    "diminuendo-test.server-send-buffer-bytes", "8192");
        }
    }

    @TestHTTPResource("/ws")
    URI ws;

    @Inject
    OutboundBytes total;

    @Test
    void aClientWithinItsOwnBudgetIsCutWith4009WhenItsFramePassesTheProcessWideBudgetAndAReaderStillGetsAWholeTurn()
            throws Exception {
        String token = Tenants.token(Tenants.fresh("bytes-total"), "alice");
        double totalHitsBefore = Metrics.sum("diminuendo_limit_hits_total", "limit=\"outbound_bytes_total\"");
        double ownHitsBefore = Metrics.sum("diminuendo_limit_hits_total", "limit=\"outbound_bytes\"");
        double closesBefore = Metrics.slowConsumerCloses();
        try (WsClient sender = WsClient.authenticated(ws, token);
                RawWebSocket first = RawWebSocket.connect(ws, 4096);
                RawWebSocket second = RawWebSocket.connect(ws, 4096)) {
            String sessionId = sender.createSession("large history");
            sender.subscribe(sessionId);
            OutboundBytesTest.runLargeTurns(sender, sessionId, 8);

            // the first client queues replies until it holds more than half its budget, then its requests wait
            first.authenticate(token);
            askForHistoryWithoutReading(first, sessionId, "a");
            await().atMost(Duration.ofSeconds(10)).until(() -> total.total() > BUDGET / 2);
            assertThat(Metrics.slowConsumerCloses()).as("nobody cut yet").isEqualTo(closesBefore);

            // the second one's replies pass the total before it holds its own budget
            second.authenticate(token);
            askForHistoryWithoutReading(second, sessionId, "b");
            await().atMost(Duration.ofSeconds(10)).until(() -> Metrics.slowConsumerCloses() > closesBefore);

            assertThat(Metrics.sum("diminuendo_limit_hits_total", "limit=\"outbound_bytes_total\""))
                    .as("process-wide budget hits").isEqualTo(totalHitsBefore + 1);
            assertThat(Metrics.sum("diminuendo_limit_hits_total", "limit=\"outbound_bytes\""))
                    .as("per-connection budget hits").isEqualTo(ownHitsBefore);
            second.readTimeout(Duration.ofSeconds(10));
            assertThat(second.readCloseCode("\"error\"")).as("close code of the client that passed the total")
                    .isEqualTo(4009);
            assertThat(total.total()).as("bytes still queued (the first client's)").isGreaterThan(BUDGET / 2)
                    .isLessThanOrEqualTo(BUDGET);

            // while the first client still holds most of the budget, a client that reads gets every event of a turn
            try (WsClient reader = WsClient.authenticated(ws, Tenants.token(Tenants.fresh("bytes-total-reader"), "bob"))) {
                String other = reader.createSession("streamed");
                reader.subscribe(other);
                List<JsonNode> turn = reader.runTurn(other, "/sim tokens=" + TOKENS + " delay_ms=0");
                assertThat(seqs(turn)).as("seqs of the reader's turn").isEqualTo(seqRange(1, TOKENS + 4));
                assertThat(turn.get(turn.size() - 1).path("kind").asText()).isEqualTo("turn_completed");
                assertThat(reader.isClosed()).isFalse();
            }
            assertThat(Metrics.slowConsumerCloses()).as("connections cut: only the second client")
                    .isEqualTo(closesBefore + 1);
            assertThat(sender.isClosed()).isFalse();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> total.total() == 0);
    }

    /** Sends as many {@code history} requests for the session's first page as a connection may have waiting. */
    private static void askForHistoryWithoutReading(RawWebSocket client, String sessionId, String prefix)
            throws Exception {
        for (int i = 0; i < HistoryRequests.MAX_WAITING; i++) {
            client.sendText("{\"type\":\"history\",\"id\":\"" + prefix + i + "\",\"sessionId\":\"" + sessionId
                    + "\",\"afterSeq\":0,\"limit\":1000}");
        }
    }
}

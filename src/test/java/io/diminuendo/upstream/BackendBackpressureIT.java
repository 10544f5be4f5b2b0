package io.diminuendo.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.GatewayProcess;
import io.diminuendo.support.WsClient;

/**
 * A network backend that streams as fast as it can into a gateway whose writer queue holds only 16 writes:
 * the gateway pauses the backend instead of buffering without bound, and nothing is lost.
 */
class BackendBackpressureIT {

    @Test
    void aBackendFasterThanTheStoreIsPausedAndLosesNothing() throws Exception {
        int simPort = GatewayProcess.freePort();
        Path db = GatewayProcess.freshDb();
        try (GatewayProcess sim = GatewayProcess.startSimulator("backpressure-simulator", simPort);
                GatewayProcess gw = GatewayProcess.start(db, "backpressure-gateway",
                        "-Ddiminuendo.store.writer.queue-capacity=16",
                        "-Ddiminuendo.store.writer.max-batch-rows=4",
                        "-Ddiminuendo.backends.sim.kind=websocket",
                        "-Ddiminuendo.backends.sim.url=ws://localhost:" + simPort + "/agent",
                        "-Ddiminuendo.default-backend=sim")) {
            await().atMost(Duration.ofSeconds(20)).until(() -> gw.get("/health").contains("\"status\":\"ok\""));
            try (WsClient c = WsClient.authenticated(gw.ws(), GatewayProcess.API_KEY)) {
                String id = c.createSession("fast backend");
                c.request("subscribe", "sessionId", id);
                c.request("send_message", "sessionId", id, "text", "/sim tokens=20000 delay_ms=0");
                List<JsonNode> live = c.eventsUntilTurnEnds(id);
                assertThat(live.get(live.size() - 1).path("kind").asText()).isEqualTo("turn_completed");
                assertThat(live.stream().filter(e -> "text_delta".equals(e.path("kind").asText())).count()).isEqualTo(20000);
                for (int i = 0; i < live.size(); i++) {
                    assertThat(live.get(i).path("seq").asLong()).isEqualTo(i + 1);
                }

                List<JsonNode> stored = new ArrayList<>();
                long after = 0;
                while (stored.size() < live.size()) {
                    JsonNode page = c.request("history", "sessionId", id, "afterSeq", after, "limit", 1000);
                    page.path("events").forEach(stored::add);
                    after = stored.get(stored.size() - 1).path("seq").asLong();
                }
                assertThat(stored).isEqualTo(live);
            }
            assertThat(gw.metric("diminuendo_stream_pauses_total", "")).as("the pause path was taken").isPositive();
            assertThat(gw.metric("diminuendo_writer_queue_depth", "")).isLessThanOrEqualTo(16);
        }
    }
}

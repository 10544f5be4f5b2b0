package io.diminuendo.upstream;

import static io.diminuendo.support.Events.kinds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.support.GatewayProcess;
import io.diminuendo.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;

/**
 * The {@code websocket} backend against real peers: the standalone simulator as its own process (killed and
 * restarted), and a deliberately broken backend served from this test that sends garbage between valid events.
 */
class WebSocketBackendIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Vertx vertx;
    private static HttpServer garbageBackend;
    private static int simulatorPort;
    private static GatewayProcess simulator;
    private static GatewayProcess gateway;

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        garbageBackend = vertx.createHttpServer().webSocketHandler(ws -> ws.textMessageHandler(text -> {
            JsonNode op;
            try {
                op = JSON.readTree(text);
            } catch (Exception e) {
                return;
            }
            if (!"start_turn".equals(op.path("op").asText())) {
                return;
            }
            String t = op.path("turnId").asText();
            ws.writeTextMessage("this is not json");
            ws.writeTextMessage("{\"event\":\"message_stop\",\"data\":{}}");
            ws.writeTextMessage("{\"turnId\":\"" + t + "\",\"event\":\"content_block_delta\",\"data\":{}}");
            ws.writeTextMessage("{\"turnId\":\"" + t + "\",\"event\":\"mystery_event\",\"data\":{}}");
            ws.writeTextMessage("{\"turnId\":\"someone-else\",\"event\":\"message_stop\",\"data\":{}}");
            ws.writeTextMessage("{\"turnId\":\"" + t + "\",\"event\":\"content_block_start\",\"data\":{\"index\":0,\"content_block\":{\"type\":\"text\"}}}");
            ws.writeTextMessage("{\"turnId\":\"" + t + "\",\"event\":\"content_block_delta\",\"data\":{\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"still fine\"}}}");
            ws.writeTextMessage("{\"turnId\":\"" + t + "\",\"event\":\"content_block_stop\",\"data\":{\"index\":0}}");
            ws.writeTextMessage("{\"turnId\":\"" + t + "\",\"event\":\"message_stop\",\"data\":{}}");
        })).listen(0).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

        simulatorPort = GatewayProcess.freePort();
        simulator = GatewayProcess.startSimulator("ws-backend-simulator", simulatorPort);
        Path db = GatewayProcess.freshDb();
        gateway = GatewayProcess.start(db, "ws-backend-gateway",
                "-Ddiminuendo.backends.sim.kind=websocket",
                "-Ddiminuendo.backends.sim.url=ws://localhost:" + simulatorPort + "/agent",
                "-Ddiminuendo.backends.sim.heartbeat-interval=500ms",
                "-Ddiminuendo.backends.sim.reconnect-min=100ms",
                "-Ddiminuendo.backends.sim.reconnect-max=1s",
                "-Ddiminuendo.backends.broken.kind=websocket",
                "-Ddiminuendo.backends.broken.url=ws://localhost:" + garbageBackend.actualPort() + "/agent");
        awaitBackend("sim", "up");
        awaitBackend("broken", "up");
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        if (simulator != null) {
            simulator.close();
        }
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    private static void awaitBackend(String name, String status) {
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
            JsonNode health = JSON.readTree(gateway.get("/health"));
            return status.equals(health.path("upstreams").path(name).path("status").asText());
        });
    }

    @Test
    void aTurnThroughTheStandaloneSimulatorBehavesLikeTheBuiltInOne() {
        try (WsClient c = WsClient.authenticated(gateway.ws(), GatewayProcess.API_KEY)) {
            String remote = c.sessionOn("sim");
            String local = c.sessionOn("simulated");
            c.request("send_message", "sessionId", remote, "text", "/sim thinking tool tokens=30");
            c.request("send_message", "sessionId", local, "text", "/sim thinking tool tokens=30");
            List<JsonNode> viaNetwork = c.eventsUntilTurnEnds(remote);
            List<JsonNode> builtIn = c.eventsUntilTurnEnds(local);
            assertThat(kinds(viaNetwork)).isEqualTo(kinds(builtIn));
            assertThat(viaNetwork.get(viaNetwork.size() - 1).path("kind").asText()).isEqualTo("turn_completed");
            JsonNode toolCall = viaNetwork.stream().filter(e -> "tool_call".equals(e.path("kind").asText())).findFirst().orElseThrow();
            assertThat(toolCall.path("data").path("input").toString()).isEqualTo("{\"path\":\"src/main.txt\",\"limit\":10}");
        }
    }

    @Test
    void permissionDecisionsAndCancellationReachTheRemoteBackend() {
        try (WsClient c = WsClient.authenticated(gateway.ws(), GatewayProcess.API_KEY)) {
            String id = c.sessionOn("sim");
            c.request("send_message", "sessionId", id, "text", "/sim permission");
            JsonNode request = c.awaitEvent(id, "permission_request");
            c.request("permission_decision", "sessionId", id, "requestId", request.path("data").path("requestId").asText(),
                    "decision", "allow");
            List<JsonNode> rest = c.eventsUntilTurnEnds(id);
            assertThat(kinds(rest)).contains("permission_resolved", "tool_result").endsWith("turn_completed");

            c.request("send_message", "sessionId", id, "text", "/sim hang");
            c.awaitEvent(id, "text_delta");
            assertThat(c.request("cancel_turn", "sessionId", id).path("type").asText()).isEqualTo("cancel_requested");
            assertThat(c.awaitEvent(id, "turn_cancelled")).isNotNull();
            c.request("send_message", "sessionId", id, "text", "after cancel");
            assertThat(kinds(c.eventsUntilTurnEnds(id))).endsWith("turn_completed");
        }
    }

    @Test
    void aPromptLargerThanOneWebSocketFrameReachesTheRemoteBackend() {
        try (WsClient c = WsClient.authenticated(gateway.ws(), GatewayProcess.API_KEY)) {
            String id = c.sessionOn("sim");
            String prompt = "big ".repeat(22_000);
            c.sendMessage(id, prompt);
            assertThat(kinds(c.eventsUntilTurnEnds(id))).endsWith("turn_completed");
            c.sendMessage(id, "and again");
            assertThat(kinds(c.eventsUntilTurnEnds(id))).as("history with the big prompt fits too").endsWith("turn_completed");
        }
    }

    @Test
    void garbageFromTheBackendIsCountedAndSkipped() throws Exception {
        double malformedBefore = gateway.metric("diminuendo_backend_frames_malformed_total", "backend=\"broken\"");
        double orphanedBefore = gateway.metric("diminuendo_backend_frames_orphaned_total", "backend=\"broken\"");
        try (WsClient c = WsClient.authenticated(gateway.ws(), GatewayProcess.API_KEY)) {
            String id = c.sessionOn("broken");
            c.request("send_message", "sessionId", id, "text", "anything");
            List<JsonNode> events = c.eventsUntilTurnEnds(id);
            assertThat(kinds(events)).containsExactly("user_message", "turn_started", "text_delta", "turn_completed");
            assertThat(events.get(2).path("data").path("text").asText()).isEqualTo("still fine");
        }
        assertThat(gateway.metric("diminuendo_backend_frames_malformed_total", "backend=\"broken\"") - malformedBefore).isEqualTo(3);
        assertThat(gateway.metric("diminuendo_backend_frames_orphaned_total", "backend=\"broken\"") - orphanedBefore).isEqualTo(1);
        assertThat(gateway.get("/health")).contains("\"status\":\"ok\"");
    }

    @Test
    void killingTheBackendMidTurnFailsTheTurnThenReconnectsWithBackoff() throws Exception {
        try (WsClient c = WsClient.authenticated(gateway.ws(), GatewayProcess.API_KEY)) {
            String id = c.sessionOn("sim");
            c.request("send_message", "sessionId", id, "text", "/sim hang");
            c.awaitEvent(id, "text_delta");
            long killedAt = System.nanoTime();
            simulator.kill();

            JsonNode failed = c.awaitEvent(id, "turn_failed");
            assertThat(failed.path("data").path("code").asText()).isEqualTo("backend_lost");
            assertThat(Duration.ofNanos(System.nanoTime() - killedAt)).isLessThan(Duration.ofSeconds(3));
            awaitBackend("sim", "down");
            assertThat(c.request("send_message", "sessionId", id, "text", "hello").path("code").asText())
                    .isEqualTo("unavailable");

            double attemptsBefore = gateway.metric("diminuendo_backend_reconnects_total", "backend=\"sim\"");
            CompletableFuture<Void> pause = new CompletableFuture<>();
            vertx.setTimer(3000, t -> pause.complete(null));
            pause.get(10, TimeUnit.SECONDS);
            double attempts = gateway.metric("diminuendo_backend_reconnects_total", "backend=\"sim\"") - attemptsBefore;
            assertThat(attempts).as("exponential backoff (100 ms doubling to 1 s) allows only a few attempts in 3 s")
                    .isBetween(2.0, 12.0);

            simulator = GatewayProcess.startSimulator("ws-backend-simulator-2", simulatorPort);
            awaitBackend("sim", "up");
            c.request("send_message", "sessionId", id, "text", "/sim tokens=10");
            List<JsonNode> events = c.eventsUntilTurnEnds(id);
            assertThat(events.stream().filter(e -> "text_delta".equals(e.path("kind").asText())).count()).isEqualTo(10);
            assertThat(events.get(events.size() - 1).path("kind").asText()).isEqualTo("turn_completed");
        }
    }
}

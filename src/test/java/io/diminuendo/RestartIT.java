package io.diminuendo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.GatewayProcess;
import io.diminuendo.support.WsClient;

/** Stops and restarts the packaged gateway on the same database file (SIGTERM, and SIGKILL). */
class RestartIT {

    private static void assertContiguousFromOne(List<JsonNode> events) {
        for (int i = 0; i < events.size(); i++) {
            assertThat(events.get(i).path("seq").asLong()).as("seq at position %d", i).isEqualTo(i + 1);
        }
    }

    @Test
    void restartOnTheSameFileKeepsSessionsAndEventsAndContinuesSeq() throws Exception {
        Path db = GatewayProcess.freshDb();
        String sessionId;
        String epoch;
        long lastSeq;
        try (GatewayProcess gw = GatewayProcess.start(db, "restart-1")) {
            try (WsClient c = WsClient.authenticated(gw.ws(), GatewayProcess.API_KEY)) {
                sessionId = c.createSession("survives restarts");
                c.request("subscribe", "sessionId", sessionId);
                c.request("send_message", "sessionId", sessionId, "text", "/sim tokens=20");
                List<JsonNode> events = c.eventsUntilTurnEnds(sessionId);
                lastSeq = events.get(events.size() - 1).path("seq").asLong();
                epoch = c.request("get_session", "sessionId", sessionId).path("session").path("epoch").asText();
            }
            assertThat(gw.stop()).as("clean stop").isTrue();
        }
        try (GatewayProcess gw = GatewayProcess.start(db, "restart-2")) {
            try (WsClient c = WsClient.authenticated(gw.ws(), GatewayProcess.API_KEY)) {
                JsonNode session = c.request("get_session", "sessionId", sessionId).path("session");
                assertThat(session.path("title").asText()).isEqualTo("survives restarts");
                assertThat(session.path("lastSeq").asLong()).isEqualTo(lastSeq);
                assertThat(session.path("epoch").asText()).as("a clean restart keeps the epoch").isEqualTo(epoch);
                List<JsonNode> stored = c.history(sessionId);
                assertThat(stored).hasSize((int) lastSeq);
                assertContiguousFromOne(stored);

                c.request("subscribe", "sessionId", sessionId);
                c.request("send_message", "sessionId", sessionId, "text", "again");
                List<JsonNode> next = c.eventsUntilTurnEnds(sessionId);
                assertThat(next.get(0).path("seq").asLong()).isEqualTo(lastSeq + 1);
                assertThat(next.get(0).path("kind").asText()).isEqualTo("user_message");
            }
            assertThat(gw.stop()).as("clean stop").isTrue();
        }
    }

    @Test
    void gracefulShutdownMidStreamLosesNothingStreamedAndEndsTheTurn() throws Exception {
        Path db = GatewayProcess.freshDb();
        String sessionId;
        String epoch;
        List<JsonNode> received = new ArrayList<>();
        int closeCode;
        try (GatewayProcess gw = GatewayProcess.start(db, "graceful-1")) {
            WsClient c = WsClient.authenticated(gw.ws(), GatewayProcess.API_KEY);
            sessionId = c.createSession("interrupted");
            epoch = c.request("get_session", "sessionId", sessionId).path("session").path("epoch").asText();
            c.request("subscribe", "sessionId", sessionId);
            c.request("send_message", "sessionId", sessionId, "text", "/sim tokens=1000000 delay_ms=0");
            while (received.size() < 3000) {
                received.add(c.awaitEvent(sessionId, "text_delta"));
            }
            assertThat(gw.stop()).as("clean stop").isTrue();
            closeCode = c.awaitClose(Duration.ofSeconds(30));
            for (JsonNode n : c.drain()) {
                if ("event".equals(n.path("type").asText())) {
                    received.add(n);
                }
            }
        }
        assertThat(closeCode).isEqualTo(1001);
        JsonNode lastReceived = received.get(received.size() - 1);
        assertThat(lastReceived.path("kind").asText()).as("the client saw the turn end before the close")
                .isEqualTo("turn_failed");
        assertThat(lastReceived.path("data").path("code").asText()).isEqualTo("gateway_shutdown");

        try (GatewayProcess gw = GatewayProcess.start(db, "graceful-2")) {
            try (WsClient c = WsClient.authenticated(gw.ws(), GatewayProcess.API_KEY)) {
                List<JsonNode> stored = c.history(sessionId);
                assertContiguousFromOne(stored);
                assertThat(stored.get(stored.size() - 1)).isEqualTo(lastReceived);
                for (JsonNode e : received) {
                    assertThat(stored.get((int) e.path("seq").asLong() - 1)).isEqualTo(e);
                }
                JsonNode session = c.request("get_session", "sessionId", sessionId).path("session");
                assertThat(session.path("status").asText()).isEqualTo("idle");
                assertThat(session.path("epoch").asText()).isEqualTo(epoch);
            }
            gw.stop();
        }
    }

    @Test
    void killMidStreamEndsTheInterruptedTurnAndChangesTheEpoch() throws Exception {
        Path db = GatewayProcess.freshDb();
        String sessionId;
        String epoch;
        long lastSeen = 0;
        try (GatewayProcess gw = GatewayProcess.start(db, "kill-1")) {
            WsClient c = WsClient.authenticated(gw.ws(), GatewayProcess.API_KEY);
            sessionId = c.createSession("killed");
            epoch = c.request("get_session", "sessionId", sessionId).path("session").path("epoch").asText();
            c.request("subscribe", "sessionId", sessionId);
            c.request("send_message", "sessionId", sessionId, "text", "/sim tokens=1000000 delay_ms=0");
            for (int i = 0; i < 2000; i++) {
                lastSeen = c.awaitEvent(sessionId, "text_delta").path("seq").asLong();
            }
            gw.kill();
        }
        try (GatewayProcess gw = GatewayProcess.start(db, "kill-2")) {
            try (WsClient c = WsClient.authenticated(gw.ws(), GatewayProcess.API_KEY)) {
                JsonNode session = c.request("get_session", "sessionId", sessionId).path("session");
                assertThat(session.path("epoch").asText()).as("seq continuity is not guaranteed after a kill")
                        .isNotEqualTo(epoch);
                assertThat(session.path("status").asText()).isEqualTo("idle");
                List<JsonNode> stored = c.history(sessionId);
                assertContiguousFromOne(stored);
                JsonNode last = stored.get(stored.size() - 1);
                assertThat(last.path("kind").asText()).isEqualTo("turn_failed");
                assertThat(last.path("data").path("code").asText()).isEqualTo("gateway_restarted");
                assertThat(stored.size()).isGreaterThan(1000);
                assertThat(lastSeen).isPositive();

                JsonNode subscribed = c.request("subscribe", "sessionId", sessionId, "afterSeq", last.path("seq").asLong());
                assertThat(subscribed.path("epoch").asText()).isEqualTo(session.path("epoch").asText());
                c.request("send_message", "sessionId", sessionId, "text", "after the crash");
                assertThat(c.eventsUntilTurnEnds(sessionId).get(0).path("seq").asLong())
                        .isEqualTo(last.path("seq").asLong() + 1);
            }
            gw.stop();
        }
    }
}

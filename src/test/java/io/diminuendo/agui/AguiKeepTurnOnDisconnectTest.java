package io.diminuendo.agui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import io.diminuendo.support.Keys;
import io.diminuendo.support.Metrics;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/** With {@code diminuendo.agui.cancel-on-disconnect=false} a client that hangs up leaves its turn running. */
@QuarkusTest
@TestProfile(AguiKeepTurnOnDisconnectTest.KeepTurns.class)
class AguiKeepTurnOnDisconnectTest {

    public static class KeepTurns implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("diminuendo.agui.cancel-on-disconnect", "false");
        }
    }

    @TestHTTPResource("/api/agui")
    URI agui;

    @TestHTTPResource("/ws")
    URI ws;

    @Test
    void hangingUpLeavesTheTurnRunningForOthersToSee() throws InterruptedException {
        double cancels = Metrics.sum("diminuendo_agui_disconnect_cancels_total");
        double disconnected = Metrics.sum("diminuendo_agui_runs_ended_total", "outcome=\"disconnected\"");
        String thread = UUID.randomUUID().toString();
        try (SseRun run = SseRun.post(agui, Keys.ALICE, SseRun.prompt(thread, "/sim hang"))) {
            run.next("TEXT_MESSAGE_CONTENT");
        }
        await().atMost(Duration.ofSeconds(5)).until(
                () -> Metrics.sum("diminuendo_agui_runs_ended_total", "outcome=\"disconnected\"") > disconnected);
        Thread.sleep(300); // a cancel would be published by now; none may come
        assertThat(AguiClientTest.kinds(AguiClientTest.history(thread))).containsExactly("user_message", "turn_started");
        assertThat(Metrics.sum("diminuendo_agui_disconnect_cancels_total")).isEqualTo(cancels);

        SseRun next = SseRun.post(agui, Keys.ALICE, SseRun.prompt(thread, "/sim tokens=1"));
        assertThat(next.status()).isEqualTo(409);
        assertThat(next.json().path("code").asText()).isEqualTo("conflict");

        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            assertThat(alice.request("cancel_turn", "sessionId", thread).path("type").asText())
                    .isEqualTo("cancel_requested");
        }
        assertThat(AguiClientTest.kinds(AguiClientTest.history(thread))).endsWith("turn_cancelled");
    }
}

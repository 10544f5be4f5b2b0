package io.diminuendo.agui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.Keys;
import io.diminuendo.support.Metrics;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * The AG-UI endpoint with other settings than the defaults: {@code diminuendo.agui.cancel-on-disconnect=false}, and a
 * small REST rate, which AG-UI runs count against like any REST request.
 */
@QuarkusTest
@TestProfile(AguiConfiguredTest.Settings.class)
class AguiConfiguredTest {

    public static class Settings implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("diminuendo.agui.cancel-on-disconnect", "false",
                    "diminuendo.limits.rest-requests-per-second", "1",
                    "diminuendo.limits.rest-burst", "10");
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

    @Test
    void aUserOverTheRestRateIsRefusedWith429AndRetryAfter() {
        SseRun limited = null;
        for (int i = 0; i < 20 && limited == null; i++) {
            SseRun run = SseRun.post(agui, Keys.EVE, "{");
            if (run.status() == 429) {
                limited = run;
            } else {
                assertThat(run.status()).isEqualTo(400);
                run.json();
            }
        }
        assertThat(limited).as("a run refused for the rate within 20 requests").isNotNull();
        assertThat(limited.header("Retry-After")).isNotNull();
        JsonNode body = limited.json();
        assertThat(body.path("code").asText()).isEqualTo("rate_limited");
        assertThat(body.path("retryAfterMs").asLong()).isPositive();
    }
}

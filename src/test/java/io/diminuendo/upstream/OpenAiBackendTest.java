package io.diminuendo.upstream;

import static io.restassured.RestAssured.given;
import static io.diminuendo.support.Events.isEventOf;
import static io.diminuendo.support.Events.kinds;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.Keys;
import io.diminuendo.support.Metrics;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;

/**
 * The OpenAI-compatible backend over the wire: a client on {@code /ws}, the real gateway, and a fake
 * chat completions server replaying the transcripts of {@code src/test/resources/openai} in small, awkwardly
 * split writes. The first word of each prompt picks the fake server's answer (see {@link FakeOpenAiServer}).
 */
@QuarkusTest
@TestProfile(OpenAiTestProfile.class)
class OpenAiBackendTest {
    static final String PLAIN_TEXT = "Bonjour ! Voilà une réponse — en UTF-8 : 中文, ☕ et 🎶.";

    @TestHTTPResource("/ws")
    URI ws;

    private static FakeOpenAiServer server() {
        return OpenAiTestProfile.FakeServerResource.server;
    }

    private static String joined(List<JsonNode> events, String kind) {
        StringBuilder out = new StringBuilder();
        events.stream().filter(e -> kind.equals(e.path("kind").asText())).forEach(e -> out.append(e.path("data").path("text").asText()));
        return out.toString();
    }

    private static JsonNode only(List<JsonNode> events, String kind) {
        List<JsonNode> found = events.stream().filter(e -> kind.equals(e.path("kind").asText())).toList();
        assertThat(found).as("%s events in %s", kind, kinds(events)).hasSize(1);
        return found.get(0).path("data");
    }

    private static JsonNode last(List<JsonNode> events) {
        return events.get(events.size() - 1);
    }

    private static void assertFailed(List<JsonNode> events, String code, String... messageParts) {
        JsonNode end = last(events);
        assertThat(end.path("kind").asText()).as("%s", events).isEqualTo("turn_failed");
        assertThat(end.path("data").path("code").asText()).as("%s", end).isEqualTo(code);
        assertThat(end.path("data").path("message").asText()).contains(messageParts);
    }

    @Test
    void plainTextStreamsAsTextDeltasThenUsageAndCompletesWithEndTurn() {
        String prompt = "plain-text " + UUID.randomUUID();
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String s = c.sessionOn("fake");
            List<JsonNode> events = c.runTurn(s, prompt);
            assertThat(kinds(events)).first().isEqualTo("user_message");
            assertThat(kinds(events).subList(1, 2)).containsExactly("turn_started");
            assertThat(kinds(events).stream().filter("text_delta"::equals)).hasSize(16);
            assertThat(joined(events, "text_delta")).isEqualTo(PLAIN_TEXT);
            assertThat(kinds(events).subList(events.size() - 2, events.size())).containsExactly("usage", "turn_completed");
            assertThat(only(events, "usage").path("inputTokens").asLong()).isEqualTo(19);
            assertThat(only(events, "usage").path("outputTokens").asLong()).isEqualTo(16);
            assertThat(last(events).path("data").path("stopReason").asText()).isEqualTo("end_turn");
        }
        FakeOpenAiServer.Recorded request = server().request(prompt);
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.path()).isEqualTo("/v1/chat/completions");
        assertThat(request.headers()).containsEntry("authorization", "Bearer test-key")
                .containsEntry("accept", "text/event-stream").containsEntry("content-type", "application/json");
        assertThat(request.body().path("model").asText()).isEqualTo("test-model");
        assertThat(request.body().path("stream").asBoolean()).isTrue();
        assertThat(request.body().path("stream_options").path("include_usage").asBoolean()).isTrue();
        assertThat(request.body().path("messages")).hasSize(1);
        assertThat(request.body().path("messages").get(0).path("role").asText()).isEqualTo("user");
        assertThat(request.body().path("messages").get(0).path("content").asText()).isEqualTo(prompt);
    }

    @Test
    void crLfLineEndsSplitBetweenTheirTwoBytesMakeNoDifference() {
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String s = c.sessionOn("fake");
            List<JsonNode> events = c.runTurn(s, "plain-text crlf");
            assertThat(joined(events, "text_delta")).isEqualTo(PLAIN_TEXT);
            assertThat(last(events).path("kind").asText()).isEqualTo("turn_completed");
        }
    }

    @Test
    void reasoningContentBecomesThinkingDeltasBeforeTheText() {
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String s = c.sessionOn("fake");
            List<JsonNode> events = c.runTurn(s, "reasoning");
            assertThat(joined(events, "thinking_delta")).isEqualTo("The user asks for 17 × 23. 17 × 20 = 340, 17 × 3 = 51, total 391.");
            assertThat(joined(events, "text_delta")).isEqualTo("17 × 23 = **391**.");
            assertThat(kinds(events).lastIndexOf("thinking_delta")).isLessThan(kinds(events).indexOf("text_delta"));
            assertThat(only(events, "usage").path("outputTokens").asLong()).isEqualTo(41);
            assertThat(last(events).path("data").path("stopReason").asText()).isEqualTo("end_turn");

            // the delta.reasoning spelling (Ollama, OpenRouter), usage on the finishing chunk
            events = c.runTurn(s, "reasoning-field");
            assertThat(joined(events, "thinking_delta")).isEqualTo("Short thought.");
            assertThat(joined(events, "text_delta")).isEqualTo("Short answer.");
            assertThat(only(events, "usage").path("inputTokens").asLong()).isEqualTo(8);
            assertThat(last(events).path("kind").asText()).isEqualTo("turn_completed");
        }
    }

    @Test
    void toolCallFragmentsAreJoinedPerIndexIntoOneToolCallEach() {
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String s = c.sessionOn("fake");
            List<JsonNode> events = c.runTurn(s, "tool-call");
            List<JsonNode> calls = events.stream().filter(e -> "tool_call".equals(e.path("kind").asText()))
                    .map(e -> e.path("data")).toList();
            assertThat(calls).hasSize(2);
            assertThat(calls.get(0).path("toolCallId").asText()).isEqualTo("call_Qf3kX9bLm2ZtR8wPq1sNvY4c");
            assertThat(calls.get(0).path("name").asText()).isEqualTo("get_weather");
            JsonNode input = calls.get(0).path("input");
            assertThat(input.path("location").asText()).isEqualTo("Paris, France");
            assertThat(input.path("unit").asText()).isEqualTo("celsius");
            assertThat(input.path("days").asInt()).isEqualTo(3);
            assertThat(input.path("note").asText()).isEqualTo("café ☕");
            assertThat(input.size()).isEqualTo(4);
            assertThat(calls.get(1).path("toolCallId").asText()).isEqualTo("call_Zp7Hc2Vn6MdXw0KjLr5TqB9e");
            assertThat(calls.get(1).path("name").asText()).isEqualTo("get_time");
            assertThat(calls.get(1).path("input").toString()).isEqualTo("{\"timezone\":\"Europe/Paris\"}");
            assertThat(kinds(events)).doesNotContain("text_delta", "tool_result", "permission_request");
            assertThat(only(events, "usage").path("inputTokens").asLong()).isEqualTo(84);
            assertThat(last(events).path("kind").asText()).isEqualTo("turn_completed");
            assertThat(last(events).path("data").path("stopReason").asText()).isEqualTo("tool_use");
        }
    }

    @Test
    void malformedChunksAreCountedAndSkippedAndTheTurnCompletes() {
        double before = Metrics.sum("diminuendo_backend_frames_malformed_total", "backend=\"fake\"");
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String s = c.sessionOn("fake");
            List<JsonNode> events = c.runTurn(s, "malformed");
            assertThat(joined(events, "text_delta")).isEqualTo("Still here.");
            assertThat(last(events).path("kind").asText()).isEqualTo("turn_completed");
        }
        assertThat(Metrics.sum("diminuendo_backend_frames_malformed_total", "backend=\"fake\"") - before).isEqualTo(2.0);
    }

    @Test
    void httpErrorsFailTheTurnWithACodeAndAMessageTheUserCanActOn() {
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String s = c.sessionOn("fake");
            assertFailed(c.runTurn(s, "status-401"), "backend_unauthorized", "HTTP 401", "Incorrect API key provided",
                    "check diminuendo.backends.fake.api-key");
            assertFailed(c.runTurn(s, "status-429"), "backend_rate_limited", "HTTP 429", "Rate limit reached", "wait 20 s");
            assertFailed(c.runTurn(s, "status-500"), "backend_error", "HTTP 500", "The server had an error");
            assertFailed(c.runTurn(s, "status-404"), "backend_rejected", "HTTP 404", "does not exist",
                    "check diminuendo.backends.fake.url and .model");
            // the backend stays up: HTTP errors are answers, not connection failures
            assertThat(c.runTurn(s, "plain-text").get(0).path("kind").asText()).isEqualTo("user_message");
        }
    }

    @Test
    void aStreamEndingBeforeFinishReasonAndDoneIsTruncated() {
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String s = c.sessionOn("fake");
            List<JsonNode> events = c.runTurn(s, "truncated");
            assertThat(joined(events, "text_delta")).isEqualTo("The answer is cut");
            assertFailed(events, "backend_truncated", "ended the stream before the reply was complete");
        }
    }

    @Test
    void aConnectionResetMidStreamIsBackendLost() {
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String s = c.sessionOn("fake");
            List<JsonNode> events = c.runTurn(s, "dropped");
            assertFailed(events, "backend_lost", "was lost before the reply was complete");
        }
    }

    @Test
    void anErrorChunkMidStreamIsBackendError() {
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String s = c.sessionOn("fake");
            List<JsonNode> events = c.runTurn(s, "error-midstream");
            assertThat(joined(events, "text_delta")).isEqualTo("Partial");
            assertFailed(events, "backend_error", "reported an error mid-reply", "The server had an error processing your request");
        }
    }

    @Test
    void aBodyEndingAfterFinishReasonWithoutDoneStillCompletes() {
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String s = c.sessionOn("fake");
            List<JsonNode> events = c.runTurn(s, "no-done");
            assertThat(joined(events, "text_delta")).isEqualTo("Done anyway.");
            assertThat(only(events, "usage").path("outputTokens").asLong()).isEqualTo(2);
            assertThat(last(events).path("kind").asText()).isEqualTo("turn_completed");
            assertThat(last(events).path("data").path("stopReason").asText()).isEqualTo("max_tokens");
        }
    }

    @Test
    void noBytesForTheIdleTimeoutIsBackendTimeoutAndTheRequestIsAborted() throws Exception {
        String prompt = "stall " + UUID.randomUUID();
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String s = c.sessionOn("fake");
            long start = System.nanoTime();
            List<JsonNode> events = c.runTurn(s, prompt);
            assertFailed(events, "backend_timeout", "sent nothing for 3000 ms", "diminuendo.backends.fake.idle-timeout");
            assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(2900);
        }
        assertThat(server().awaitClosedByClient(prompt, 5000)).as("the fake server saw the connection closed").isTrue();
    }

    @Test
    void cancelMidStreamAbortsTheHttpRequest() throws Exception {
        String prompt = "slow 300 100 " + UUID.randomUUID();
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String s = c.sessionOn("fake");
            c.sendMessage(s, prompt);
            c.awaitEvent(s, "text_delta");
            c.awaitEvent(s, "text_delta");
            JsonNode reply = c.request("cancel_turn", "sessionId", s);
            assertThat(reply.path("type").asText()).as("%s", reply).isNotEqualTo("error");
            List<JsonNode> rest = c.eventsUntilTurnEnds(s);
            assertThat(last(rest).path("kind").asText()).isEqualTo("turn_cancelled");
            assertThat(server().awaitClosedByClient(prompt, 5000)).as("the fake server saw the connection closed").isTrue();
            Thread.sleep(300);
            assertThat(c.drain()).as("nothing after turn_cancelled")
                    .noneMatch(f -> isEventOf(f, s));
            // the session takes the next turn
            assertThat(last(c.runTurn(s, "plain-text")).path("kind").asText()).isEqualTo("turn_completed");
        }
    }

    @Test
    void theSecondTurnSendsTheFirstPromptAndReplyAsHistory() {
        String first = "plain-text first " + UUID.randomUUID();
        String second = "plain-text second " + UUID.randomUUID();
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String s = c.sessionOn("fake");
            assertThat(last(c.runTurn(s, first)).path("kind").asText()).isEqualTo("turn_completed");
            assertThat(last(c.runTurn(s, second)).path("kind").asText()).isEqualTo("turn_completed");
        }
        assertThat(server().request(first).body().path("messages")).hasSize(1);
        JsonNode messages = server().request(second).body().path("messages");
        List<String> got = new ArrayList<>();
        messages.forEach(m -> got.add(m.path("role").asText() + ": " + m.path("content").asText()));
        assertThat(got).containsExactly("user: " + first, "assistant: " + PLAIN_TEXT, "user: " + second);
    }

    @Test
    void twoSessionsOnDifferentBackendsRunAtTheSameTime() {
        String prompt = "slow 20 50 " + UUID.randomUUID();
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String onSimulator = c.sessionOn("simulated");
            String onOpenAi = c.sessionOn("fake");
            c.sendMessage(onOpenAi, prompt);
            c.sendMessage(onSimulator, "/sim tokens=40 delay_ms=10");
            List<JsonNode> simulated = c.eventsUntilTurnEnds(onSimulator);
            List<JsonNode> openai = c.eventsUntilTurnEnds(onOpenAi);
            assertThat(last(simulated).path("kind").asText()).isEqualTo("turn_completed");
            assertThat(kinds(simulated).stream().filter("text_delta"::equals)).hasSize(40);
            assertThat(last(openai).path("kind").asText()).isEqualTo("turn_completed");
            StringBuilder expected = new StringBuilder();
            for (int i = 0; i < 20; i++) {
                expected.append('w').append(i).append(' ');
            }
            assertThat(joined(openai, "text_delta")).isEqualTo(expected.toString());
            assertThat(only(openai, "usage").path("outputTokens").asLong()).isEqualTo(20);
        }
    }

    @Test
    void aServerThatRefusesConnectionsIsBackendLostAndDownUntilItAcceptsConnectionsAgain() throws Exception {
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String s = c.sessionOn("dead");
            assertFailed(c.runTurn(s, "hello"), "backend_lost", "could not connect to agent backend 'dead'",
                    "check that the server is running and diminuendo.backends.dead.url");
            JsonNode refused = c.request("send_message", "sessionId", s, "text", "again");
            assertThat(refused.path("type").asText()).isEqualTo("error");
            assertThat(refused.path("code").asText()).isEqualTo("unavailable");
            Thread.sleep(1500); // several probes (200 ms doubling to 1 s) fail meanwhile
            JsonPath health = given().when().get("/health").then().extract().jsonPath();
            assertThat(health.getString("upstreams.dead.status")).isEqualTo("down");
            assertThat(health.getString("status")).as("a non-default backend down is not the gateway degraded")
                    .isEqualTo("ok");
            assertThat(health.getLong("upstreams.dead.checkedAt")).isPositive();
            assertThat(health.getString("upstreams.fake.status")).isEqualTo("up");
        }
        try (ServerSocket listening = new ServerSocket(OpenAiTestProfile.FakeServerResource.deadPort, 50,
                InetAddress.getByName("127.0.0.1"))) {
            long deadline = System.nanoTime() + 10_000_000_000L;
            String status = "down";
            while (!"up".equals(status) && System.nanoTime() < deadline) {
                Thread.sleep(100);
                status = given().when().get("/health").then().extract().jsonPath().getString("upstreams.dead.status");
            }
            assertThat(status).as("up once a probe connects").isEqualTo("up");
        }
    }
}

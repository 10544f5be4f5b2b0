package io.diminuendo.agui;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.support.Keys;
import io.diminuendo.support.Metrics;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;

/**
 * The AG-UI endpoint over the wire with the real {@code @ag-ui/client} 1.0 {@code HttpAgent} in Node.js
 * (docs/protocol.md, "4. AG-UI"): the client's own verification runs on every stream, and what it logs is checked
 * too. The gateway side is checked through REST history, a WebSocket subscriber and the metrics.
 */
@QuarkusTest
@TestProfile(AguiTestProfile.class)
class AguiClientTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/api/agui")
    URI agui;

    @TestHTTPResource("/ws")
    URI ws;

    @BeforeAll
    static void nodeIsThere() {
        NodeScenarios.requireNode();
    }

    private JsonNode scenario(String name, Object... kv) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("url", agui.toString());
        for (int i = 0; i < kv.length; i += 2) {
            args.put((String) kv[i], kv[i + 1]);
        }
        return NodeScenarios.run(name, args);
    }

    private static List<String> types(JsonNode run) {
        return StreamSupport.stream(run.path("types").spliterator(), false).map(JsonNode::asText).toList();
    }

    private static List<JsonNode> events(JsonNode run, String type) {
        return StreamSupport.stream(run.path("events").spliterator(), false)
                .filter(e -> type.equals(e.path("type").asText())).toList();
    }

    private static String text(JsonNode run) {
        return events(run, "TEXT_MESSAGE_CONTENT").stream().map(e -> e.path("delta").asText()).collect(Collectors.joining());
    }

    private static void noClientComplaints(JsonNode result) {
        assertThat(result.path("logged")).as("warnings and errors the client logged").isEmpty();
        result.path("runs").forEach(run -> assertThat(run.path("failure").isNull()).as(run.path("failure").toString()).isTrue());
    }

    /** The session's stored events over REST, as the owner's tenant sees them. */
    static List<JsonNode> history(String sessionId) {
        String body = given().header("Authorization", "Bearer " + Keys.ALICE).queryParam("afterSeq", 0)
                .queryParam("limit", 1000).get("/api/sessions/" + sessionId + "/events").then().statusCode(200)
                .extract().asString();
        try {
            List<JsonNode> out = new ArrayList<>();
            JSON.readTree(body).path("events").forEach(out::add);
            return out;
        } catch (Exception e) {
            throw new AssertionError("history is not JSON: " + body, e);
        }
    }

    static List<String> kinds(List<JsonNode> history) {
        return history.stream().map(e -> e.path("kind").asText()).filter(k -> !k.equals("text_delta")).toList();
    }

    @Test
    void aPlainPromptStreamsItsTextCheckedByTheClientWithoutAWarning() {
        JsonNode result = scenario("prompt", "key", Keys.ALICE, "prompt", "/sim tokens=50 delay_ms=5");
        noClientComplaints(result);
        JsonNode run = result.path("runs").get(0);
        List<String> types = types(run);
        assertThat(types.get(0)).isEqualTo("RUN_STARTED");
        assertThat(types.subList(1, 3)).containsExactly("TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT");
        assertThat(types).filteredOn("TEXT_MESSAGE_CONTENT"::equals).hasSize(50);
        assertThat(types.subList(types.size() - 2, types.size())).containsExactly("TEXT_MESSAGE_END", "RUN_FINISHED");
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            expected.append("tok").append(i).append(' ');
        }
        assertThat(text(run)).isEqualTo(expected.toString());
        JsonNode last = result.path("messages").get(result.path("messages").size() - 1);
        assertThat(last.path("role").asText()).isEqualTo("assistant");
        assertThat(last.path("content").asText()).isEqualTo(expected.toString());

        // the thread became a session of alice's tenant, made for the client, holding this one turn
        String threadId = result.path("threadId").asText();
        JsonPath session = given().header("Authorization", "Bearer " + Keys.ALICE).get("/api/sessions/" + threadId)
                .then().statusCode(200).extract().jsonPath();
        assertThat(session.getString("title")).isEqualTo("/sim tokens=50 delay_ms=5");
        assertThat(session.getString("metadata.source")).isEqualTo("ag-ui");
        assertThat(session.getString("status")).isEqualTo("idle");
        List<JsonNode> history = history(threadId);
        assertThat(kinds(history)).containsExactly("user_message", "turn_started", "usage", "turn_completed");
        assertThat(history.get(0).path("data").path("clientMessageId").asText())
                .isEqualTo(result.path("messageId").asText());
        assertThat(history.get(0).path("turnId").asText())
                .isEqualTo(run.path("events").get(0).path("metadata").path("turnId").asText());
    }

    @Test
    void thinkingArrivesAsAReasoningMessageBeforeTheAnswer() {
        JsonNode result = scenario("prompt", "key", Keys.ALICE, "prompt", "/sim thinking");
        noClientComplaints(result);
        JsonNode run = result.path("runs").get(0);
        assertThat(types(run)).containsSubsequence("REASONING_START", "REASONING_MESSAGE_START",
                "REASONING_MESSAGE_CONTENT", "REASONING_MESSAGE_END", "REASONING_END", "TEXT_MESSAGE_START",
                "TEXT_MESSAGE_END", "RUN_FINISHED");
        String reasoning = events(run, "REASONING_MESSAGE_CONTENT").stream().map(e -> e.path("delta").asText())
                .collect(Collectors.joining());
        assertThat(reasoning).isEqualTo("Let me think about how to answer this.");
        assertThat(result.path("messages").findValuesAsText("role")).contains("reasoning");
    }

    @Test
    void aToolCallArrivesWithItsArgumentsAndItsResult() {
        JsonNode result = scenario("prompt", "key", Keys.ALICE, "prompt", "/sim tool");
        noClientComplaints(result);
        JsonNode run = result.path("runs").get(0);
        assertThat(types(run)).containsSubsequence("TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END",
                "TOOL_CALL_RESULT", "TEXT_MESSAGE_START", "RUN_FINISHED");
        JsonNode start = events(run, "TOOL_CALL_START").get(0);
        assertThat(start.path("toolCallName").asText()).isEqualTo("read_file");
        JsonNode result0 = events(run, "TOOL_CALL_RESULT").get(0);
        assertThat(result0.path("toolCallId").asText()).isEqualTo(start.path("toolCallId").asText());
        assertThat(result0.path("content").asText()).isEqualTo("hello from the simulated file");
        // the client put the call, its arguments and its result into the conversation
        JsonNode call = null;
        JsonNode toolMessage = null;
        for (JsonNode m : result.path("messages")) {
            if (m.has("toolCalls")) {
                call = m.path("toolCalls").get(0);
            }
            if ("tool".equals(m.path("role").asText())) {
                toolMessage = m;
            }
        }
        assertThat(call).isNotNull();
        assertThat(call.path("function").path("arguments").asText()).isEqualTo("{\"path\":\"src/main.txt\",\"limit\":10}");
        assertThat(toolMessage).isNotNull();
        assertThat(toolMessage.path("content").asText()).isEqualTo("hello from the simulated file");
    }

    @Test
    void anAgentErrorEndsTheRunWithRunError() {
        JsonNode result = scenario("prompt", "key", Keys.ALICE, "prompt", "/sim error");
        noClientComplaints(result);
        JsonNode run = result.path("runs").get(0);
        List<String> types = types(run);
        assertThat(types.get(types.size() - 1)).isEqualTo("RUN_ERROR");
        assertThat(types).doesNotContain("RUN_FINISHED");
        JsonNode error = events(run, "RUN_ERROR").get(0);
        assertThat(error.path("code").asText()).isEqualTo("agent_error");
        assertThat(error.path("message").asText()).contains("/sim error");
    }

    @Test
    void twoRunsOnOneThreadContinueOneSession() {
        JsonNode result = scenario("twoRuns", "key", Keys.ALICE, "prompts", List.of("first prompt", "second prompt"));
        noClientComplaints(result);
        assertThat(text(result.path("runs").get(0))).isEqualTo("You said: first prompt");
        assertThat(text(result.path("runs").get(1))).isEqualTo("You said: second prompt");
        String threadId = result.path("threadId").asText();
        List<JsonNode> history = history(threadId);
        assertThat(kinds(history)).containsExactly("user_message", "turn_started", "usage", "turn_completed",
                "user_message", "turn_started", "usage", "turn_completed");
        assertThat(history).filteredOn(e -> e.path("kind").asText().equals("user_message"))
                .extracting(e -> e.path("data").path("text").asText()).containsExactly("first prompt", "second prompt");
        // the first prompt named the session; the second run used it as it was
        assertThat(given().header("Authorization", "Bearer " + Keys.ALICE).get("/api/sessions/" + threadId)
                .then().statusCode(200).extract().jsonPath().getString("title")).isEqualTo("first prompt");
    }

    @Test
    void abortRunMidStreamCancelsTheTurnAndTheNextRunSucceeds() {
        double cancels = Metrics.sum("diminuendo_agui_disconnect_cancels_total");
        double disconnected = Metrics.sum("diminuendo_agui_runs_ended_total", "outcome=\"disconnected\"");
        JsonNode result = scenario("abort", "key", Keys.ALICE, "prompts",
                List.of("/sim tokens=1000 delay_ms=20", "/sim tokens=3"));
        assertThat(result.path("aborted").asBoolean()).isTrue();
        assertThat(result.path("logged")).isEmpty();
        JsonNode second = result.path("runs").get(1);
        assertThat(second.path("failure").isNull()).isTrue();
        assertThat(types(second)).endsWith("RUN_FINISHED");
        assertThat(text(second)).isEqualTo("tok0 tok1 tok2 ");

        List<JsonNode> history = history(result.path("threadId").asText());
        assertThat(kinds(history)).containsExactly("user_message", "turn_started", "turn_cancelled", "user_message",
                "turn_started", "usage", "turn_completed");
        JsonNode cancelled = history.stream().filter(e -> e.path("kind").asText().equals("turn_cancelled")).findFirst()
                .orElseThrow();
        assertThat(cancelled.path("data").path("userId").asText()).isEqualTo("alice");
        assertThat(history.stream().filter(e -> e.path("kind").asText().equals("text_delta")).count())
                .as("the first turn stopped early").isLessThan(1000 + 3);
        assertThat(Metrics.sum("diminuendo_agui_disconnect_cancels_total")).isGreaterThan(cancels);
        assertThat(Metrics.sum("diminuendo_agui_runs_ended_total", "outcome=\"disconnected\"")).isGreaterThan(disconnected);
    }

    @Test
    void aPermissionInterruptAnsweredWithAllowRunsTheToolInTheSameTurn() {
        JsonNode result = scenario("permission", "key", Keys.ALICE, "prompt", "/sim permission", "answer", "allow");
        noClientComplaints(result);
        JsonNode first = result.path("runs").get(0);
        JsonNode finished = events(first, "RUN_FINISHED").get(0);
        assertThat(finished.path("outcome").path("type").asText()).isEqualTo("interrupt");
        JsonNode interrupt = result.path("interrupt");
        assertThat(interrupt.path("reason").asText()).isEqualTo("tool_approval");
        assertThat(types(first)).containsSubsequence("TOOL_CALL_START", "TOOL_CALL_END", "RUN_FINISHED");
        assertThat(events(first, "TOOL_CALL_START").get(0).path("toolCallId").asText())
                .isEqualTo(interrupt.path("toolCallId").asText());

        JsonNode second = result.path("runs").get(1);
        assertThat(types(second)).doesNotContain("TOOL_CALL_START").endsWith("RUN_FINISHED");
        assertThat(events(second, "RUN_FINISHED").get(0).path("outcome").path("type").asText()).isEqualTo("success");
        JsonNode resolved = events(second, "CUSTOM").get(0);
        assertThat(resolved.path("name").asText()).isEqualTo("diminuendo.permission_resolved");
        assertThat(resolved.path("value").path("decision").asText()).isEqualTo("allow");
        JsonNode toolResult = events(second, "TOOL_CALL_RESULT").get(0);
        assertThat(toolResult.path("toolCallId").asText()).isEqualTo(interrupt.path("toolCallId").asText());
        assertThat(toolResult.path("content").asText()).isEqualTo("total 0");
        assertThat(text(second)).startsWith("The command ran.");

        List<JsonNode> history = history(result.path("threadId").asText());
        assertThat(kinds(history)).containsExactly("user_message", "turn_started", "permission_request",
                "permission_resolved", "tool_result", "usage", "turn_completed");
        JsonNode request = history.get(2);
        assertThat(request.path("data").path("requestId").asText()).isEqualTo(interrupt.path("id").asText());
        JsonNode decision = history.stream().filter(e -> e.path("kind").asText().equals("permission_resolved"))
                .findFirst().orElseThrow();
        assertThat(decision.path("data").path("decision").asText()).isEqualTo("allow");
        assertThat(decision.path("data").path("userId").asText()).isEqualTo("alice");
    }

    @Test
    void aPermissionInterruptAnsweredWithDenyGetsTheRefusal() {
        JsonNode result = scenario("permission", "key", Keys.ALICE, "prompt", "/sim permission", "answer", "deny");
        noClientComplaints(result);
        JsonNode second = result.path("runs").get(1);
        assertThat(types(second)).doesNotContain("TOOL_CALL_RESULT", "TOOL_CALL_START").endsWith("RUN_FINISHED");
        assertThat(text(second)).startsWith("Permission denied, so I did not run the command.");
        List<JsonNode> history = history(result.path("threadId").asText());
        assertThat(kinds(history)).containsExactly("user_message", "turn_started", "permission_request",
                "permission_resolved", "usage", "turn_completed");
        assertThat(history.get(3).path("data").path("decision").asText()).isEqualTo("deny");
    }

    @Test
    void aCancelledInterruptDenies() {
        JsonNode result = scenario("permission", "key", Keys.ALICE, "prompt", "/sim permission", "answer", "cancel");
        noClientComplaints(result);
        assertThat(text(result.path("runs").get(1))).startsWith("Permission denied");
        List<JsonNode> history = history(result.path("threadId").asText());
        assertThat(history.get(3).path("kind").asText()).isEqualTo("permission_resolved");
        assertThat(history.get(3).path("data").path("decision").asText()).isEqualTo("deny");
    }

    @Test
    void aWebSocketSubscriberSeesTheSameTurnLiveAndInItsHistory() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String sessionId = alice.createSession("made over WebSocket");
            alice.subscribe(sessionId);
            JsonNode result = scenario("prompt", "key", Keys.ALICE, "threadId", sessionId, "prompt",
                    "/sim thinking tokens=20 delay_ms=5");
            noClientComplaints(result);
            List<JsonNode> live = alice.eventsUntilTurnEnds(sessionId);
            JsonNode run = result.path("runs").get(0);
            assertThat(live.get(0).path("kind").asText()).isEqualTo("user_message");
            assertThat(live.get(0).path("data").path("clientMessageId").asText())
                    .isEqualTo(result.path("messageId").asText());
            assertThat(live.get(0).path("turnId").asText())
                    .isEqualTo(run.path("events").get(0).path("metadata").path("turnId").asText());
            String liveText = live.stream().filter(e -> e.path("kind").asText().equals("text_delta"))
                    .map(e -> e.path("data").path("text").asText()).collect(Collectors.joining());
            assertThat(liveText).isEqualTo(text(run)).startsWith("tok0 ").endsWith("tok19 ");
            assertThat(live.get(live.size() - 1).path("kind").asText()).isEqualTo("turn_completed");
            // the session kept its title: a session made over WebSocket is used as it is
            assertThat(alice.request("get_session", "sessionId", sessionId).path("session").path("title").asText())
                    .isEqualTo("made over WebSocket");
            List<JsonNode> stored = alice.history(sessionId);
            assertThat(stored).extracting(e -> e.path("seq").asLong())
                    .containsExactlyElementsOf(live.stream().map(e -> e.path("seq").asLong()).toList());
        }
    }

    // --- refusals: runAgent() rejects with the status and the {code, message} body, before any event

    private static JsonNode refusal(JsonNode result) {
        JsonNode run = result.path("runs").get(result.path("runs").size() - 1);
        assertThat(run.path("events")).as("no event before a refusal").isEmpty();
        return run.path("failure");
    }

    @Test
    void badJsonIsRefusedWith400() {
        JsonNode failure = refusal(scenario("refused", "key", Keys.ALICE, "badJson", true));
        assertThat(failure.path("status").asInt()).isEqualTo(400);
        assertThat(failure.path("payload").path("code").asText()).isEqualTo("bad_request");
        assertThat(failure.path("payload").path("message").asText()).contains("JSON");
    }

    @Test
    void aMissingAuthorizationIsRefusedWith401() {
        JsonNode failure = refusal(scenario("refused"));
        assertThat(failure.path("status").asInt()).isEqualTo(401);
        assertThat(failure.path("payload").path("code").asText()).isEqualTo("unauthorized");
    }

    @Test
    void aKeyWithoutWriteScopeIsRefusedWith403() {
        JsonNode failure = refusal(scenario("refused", "key", Keys.READER));
        assertThat(failure.path("status").asInt()).isEqualTo(403);
        assertThat(failure.path("payload").path("code").asText()).isEqualTo("forbidden");
        assertThat(failure.path("payload").path("message").asText()).contains("sessions:write");
    }

    @Test
    void anotherTenantsThreadIsNotFoundAndStaysUnchanged() {
        JsonNode mine = scenario("prompt", "key", Keys.ALICE, "prompt", "mine");
        String threadId = mine.path("threadId").asText();
        List<JsonNode> before = history(threadId);

        JsonNode failure = refusal(scenario("refused", "key", Keys.EVE, "threadId", threadId, "prompt", "/sim tokens=1"));
        assertThat(failure.path("status").asInt()).isEqualTo(404);
        assertThat(failure.path("payload").path("code").asText()).isEqualTo("not_found");

        assertThat(history(threadId)).hasSameSizeAs(before);
        given().header("Authorization", "Bearer " + Keys.EVE).get("/api/sessions/" + threadId).then().statusCode(404);
        assertThat(given().header("Authorization", "Bearer " + Keys.EVE).get("/api/sessions").then().statusCode(200)
                .extract().jsonPath().getList("items.id")).doesNotContain(threadId);
    }

    @Test
    void aSecondRunWhileOneIsRunningIsRefusedWith409() {
        JsonNode result = scenario("conflict", "key", Keys.ALICE, "prompts", List.of("/sim hang", "/sim tokens=1"));
        JsonNode failure = refusal(result);
        assertThat(failure.path("status").asInt()).isEqualTo(409);
        assertThat(failure.path("payload").path("code").asText()).isEqualTo("conflict");
        assertThat(failure.path("payload").path("message").asText()).contains("still running");
        // the first run was then aborted, which cancelled its turn: the thread has one turn, cancelled
        String threadId = result.path("threadId").asText();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                kinds(history(threadId))).containsExactly("user_message", "turn_started", "turn_cancelled"));
    }

    @Test
    void everyRunThatStartedEndedWithOneOutcome() {
        double successes = Metrics.sum("diminuendo_agui_runs_ended_total", "outcome=\"success\"");
        noClientComplaints(scenario("prompt", "key", Keys.BOB, "prompt", "/sim tokens=2"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            String scrape = Metrics.scrape();
            double started = Metrics.sumIn(scrape, "diminuendo_agui_runs_started_total", "");
            double ended = Metrics.sumIn(scrape, "diminuendo_agui_runs_ended_total", "");
            assertThat(started).isPositive();
            assertThat(Metrics.valueIn(scrape, "diminuendo_agui_runs_streaming", "")).isZero();
            assertThat(ended).isEqualTo(started);
        });
        assertThat(Metrics.sum("diminuendo_agui_runs_ended_total", "outcome=\"success\"")).isEqualTo(successes + 1);
    }
}

package io.diminuendo.session;

import static io.diminuendo.support.Events.TERMINAL_KINDS;
import static io.diminuendo.support.Events.isEventOf;
import static io.diminuendo.support.Events.kinds;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.support.Keys;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/** Turns driven by the simulated agent: conflicts, cancel, tools, thinking, permissions, errors (docs/protocol.md, "Streams" and "The built-in simulated agent"). */
@QuarkusTest
class TurnTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/ws")
    URI ws;

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static void assertError(JsonNode reply, String code) {
        assertThat(reply.path("type").asText()).as("reply %s", reply).isEqualTo("error");
        assertThat(reply.path("code").asText()).as("reply %s", reply).isEqualTo(code);
        assertThat(reply.path("message").asText()).isNotBlank();
    }

    /** Exactly one terminal event in the turn's events, and it is the last one. */
    private static void assertSingleTerminalLast(List<JsonNode> events, String kind) {
        List<String> kinds = kinds(events);
        assertThat(kinds.stream().filter(TERMINAL_KINDS::contains)).as("terminal events in %s", kinds).containsExactly(kind);
        assertThat(kinds.get(kinds.size() - 1)).isEqualTo(kind);
    }

    /** Waits for the next frame that is either the reply {@code id} or an event of the session; returns it. */
    private static JsonNode nextReplyOrEvent(WsClient c, String id, String sessionId) {
        return c.await(n -> id.equals(n.path("id").asText(null)) || isEventOf(n, sessionId));
    }

    @Test
    void aSecondMessageWhileATurnRunsIsAConflictAndLeavesTheStreamUnchanged() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
            String sid = alice.createSession("conflict");
            alice.subscribe(sid);
            String turnId = alice.sendMessage(sid, "/sim hang");
            alice.eventsUntil(sid, "text_delta");
            List<JsonNode> before = alice.history(sid);

            assertError(bob.request("send_message", "sessionId", sid, "text", "me too"), "conflict");
            assertError(alice.request("send_message", "sessionId", sid, "text", "again", "clientMessageId", "c-2"),
                    "conflict");

            assertThat(alice.eventsBeforePong(sid)).as("events caused by the refused requests").isEmpty();
            assertThat(alice.history(sid)).isEqualTo(before);
            assertThat(alice.request("get_session", "sessionId", sid).path("session").path("status").asText())
                    .isEqualTo("running");

            JsonNode cancel = alice.request("cancel_turn", "sessionId", sid);
            assertThat(cancel.path("turnId").asText()).as("the running turn is still the first one").isEqualTo(turnId);
            alice.awaitEvent(sid, "turn_cancelled");
        }
    }

    @Test
    void cancelTurnOnAHangingTurnRepliesFirstThenEndsTheTurnWithTurnCancelled() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
            String sid = alice.createSession("cancel");
            alice.subscribe(sid);
            bob.subscribe(sid);
            String turnId = alice.sendMessage(sid, "/sim hang");
            bob.eventsUntil(sid, "text_delta");

            String id = WsClient.nextId();
            bob.send(WsClient.frame("cancel_turn", "sessionId", sid).put("id", id));
            JsonNode first = nextReplyOrEvent(bob, id, sid);
            assertThat(first.path("type").asText()).as("the direct reply precedes turn_cancelled").isEqualTo("cancel_requested");
            assertThat(first.path("sessionId").asText()).isEqualTo(sid);
            assertThat(first.path("turnId").asText()).isEqualTo(turnId);

            List<JsonNode> events = alice.eventsUntilTurnEnds(sid);
            assertSingleTerminalLast(events, "turn_cancelled");
            JsonNode cancelled = events.get(events.size() - 1);
            assertThat(cancelled.path("turnId").asText()).isEqualTo(turnId);
            assertThat(cancelled.path("data").path("userId").asText()).as("who cancelled").isEqualTo("bob");
            assertThat(bob.awaitEvent(sid, "turn_cancelled")).isEqualTo(cancelled);

            assertThat(alice.eventsBeforePong(sid)).as("nothing after turn_cancelled").isEmpty();
            List<String> stored = kinds(alice.history(sid));
            assertThat(stored.stream().filter(TERMINAL_KINDS::contains)).containsExactly("turn_cancelled");
            assertThat(alice.request("get_session", "sessionId", sid).path("session").path("status").asText())
                    .isEqualTo("idle");
        }
    }

    @Test
    void cancelTurnWithNoRunningTurnIsAConflict() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String sid = alice.createSession("nothing to cancel");
            assertError(alice.request("cancel_turn", "sessionId", sid), "conflict");

            alice.subscribe(sid);
            alice.sendMessage(sid, "done quickly");
            alice.eventsUntilTurnEnds(sid);
            assertError(alice.request("cancel_turn", "sessionId", sid), "conflict");
            assertThat(alice.eventsBeforePong(sid)).isEmpty();
            assertError(alice.request("cancel_turn", "sessionId", UUID.randomUUID().toString()), "not_found");
        }
    }

    @Test
    void aNewTurnCanStartAfterACancelAndCancellingTwiceIsAConflict() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String sid = alice.createSession("after cancel");
            alice.subscribe(sid);
            String hung = alice.sendMessage(sid, "/sim hang");
            alice.eventsUntil(sid, "text_delta");
            assertThat(alice.request("cancel_turn", "sessionId", sid).path("type").asText()).isEqualTo("cancel_requested");
            alice.eventsUntilTurnEnds(sid);
            assertError(alice.request("cancel_turn", "sessionId", sid), "conflict");

            String next = alice.sendMessage(sid, "/sim tokens=4");
            assertThat(next).isNotEqualTo(hung);
            List<JsonNode> events = alice.eventsUntilTurnEnds(sid);
            assertThat(events).allMatch(e -> next.equals(e.path("turnId").asText()));
            assertThat(kinds(events).stream().filter("text_delta"::equals)).hasSize(4);
            assertSingleTerminalLast(events, "turn_completed");
        }
    }

    @Test
    void simToolEmitsOneToolCallWithTheJoinedInputThenItsResult() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String sid = alice.createSession("tool");
            alice.subscribe(sid);
            alice.sendMessage(sid, "/sim tool");
            List<JsonNode> events = alice.eventsUntilTurnEnds(sid);
            List<String> kinds = kinds(events);

            assertThat(kinds.stream().filter("tool_call"::equals)).hasSize(1);
            assertThat(kinds.stream().filter("tool_result"::equals)).hasSize(1);
            JsonNode call = events.get(kinds.indexOf("tool_call")).path("data");
            JsonNode result = events.get(kinds.indexOf("tool_result")).path("data");
            assertThat(call.path("input")).isEqualTo(json("{\"path\":\"src/main.txt\",\"limit\":10}"));
            assertThat(call.path("name").asText()).isEqualTo("read_file");
            assertThat(call.path("toolCallId").asText()).isNotBlank();
            assertThat(result.path("toolCallId").asText()).isEqualTo(call.path("toolCallId").asText());
            assertThat(result.path("output").asText()).isEqualTo("hello from the simulated file");
            assertThat(result.path("isError").asBoolean(true)).isFalse();
            assertThat(kinds.indexOf("tool_call")).isLessThan(kinds.indexOf("tool_result"));
            assertThat(kinds.indexOf("tool_result")).isLessThan(kinds.indexOf("text_delta"));
            assertSingleTerminalLast(events, "turn_completed");
        }
    }

    @Test
    void simThinkingStreamsThinkingDeltasBeforeText() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String sid = alice.createSession("thinking");
            alice.subscribe(sid);
            alice.sendMessage(sid, "/sim thinking");
            List<JsonNode> events = alice.eventsUntilTurnEnds(sid);
            List<String> kinds = kinds(events);

            assertThat(kinds).contains("thinking_delta", "text_delta");
            assertThat(kinds.lastIndexOf("thinking_delta")).isLessThan(kinds.indexOf("text_delta"));
            assertThat(events.get(kinds.indexOf("thinking_delta")).path("data").path("text").asText()).isNotBlank();
            assertSingleTerminalLast(events, "turn_completed");
        }
    }

    /** Starts {@code prompt} (which asks for permission) and returns the permission_request event. */
    private static JsonNode awaitPermissionRequest(WsClient c, String sid, String prompt) {
        c.sendMessage(sid, prompt);
        List<JsonNode> events = c.eventsUntil(sid, "permission_request");
        JsonNode request = events.get(events.size() - 1);
        JsonNode data = request.path("data");
        assertThat(data.path("requestId").asText()).isNotBlank();
        assertThat(data.path("toolCallId").asText()).isNotBlank();
        assertThat(data.path("name").asText()).isEqualTo("run_command");
        assertThat(data.path("input")).isEqualTo(json("{\"command\":\"ls -la\"}"));
        return request;
    }

    @Test
    void allowingAPermissionRunsTheTool() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String sid = alice.createSession("allow");
            alice.subscribe(sid);
            JsonNode request = awaitPermissionRequest(alice, sid, "/sim permission");
            String requestId = request.path("data").path("requestId").asText();
            String toolCallId = request.path("data").path("toolCallId").asText();

            String id = WsClient.nextId();
            alice.send(WsClient.frame("permission_decision", "sessionId", sid, "requestId", requestId, "decision", "allow")
                    .put("id", id));
            JsonNode accepted = nextReplyOrEvent(alice, id, sid);
            assertThat(accepted.path("type").asText()).isEqualTo("permission_decision_accepted");
            assertThat(accepted.path("sessionId").asText()).isEqualTo(sid);
            assertThat(accepted.path("requestId").asText()).isEqualTo(requestId);

            List<JsonNode> after = alice.eventsUntilTurnEnds(sid);
            List<String> kinds = kinds(after);
            assertThat(kinds.get(0)).isEqualTo("permission_resolved");
            assertThat(after.get(0).path("data")).isEqualTo(json(
                    "{\"requestId\":\"" + requestId + "\",\"decision\":\"allow\",\"userId\":\"alice\"}"));
            assertThat(kinds).contains("tool_result");
            assertThat(after.get(kinds.indexOf("tool_result")).path("data").path("toolCallId").asText()).isEqualTo(toolCallId);
            assertSingleTerminalLast(after, "turn_completed");
        }
    }

    @Test
    void denyingAPermissionContinuesWithARefusalAndNoToolResult() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
            String sid = alice.createSession("deny");
            alice.subscribe(sid);
            String requestId = awaitPermissionRequest(alice, sid, "/sim permission").path("data").path("requestId").asText();

            JsonNode accepted = bob.request("permission_decision", "sessionId", sid, "requestId", requestId, "decision", "deny");
            assertThat(accepted.path("type").asText()).isEqualTo("permission_decision_accepted");

            List<JsonNode> after = alice.eventsUntilTurnEnds(sid);
            List<String> kinds = kinds(after);
            assertThat(kinds.get(0)).isEqualTo("permission_resolved");
            assertThat(after.get(0).path("data").path("decision").asText()).isEqualTo("deny");
            assertThat(after.get(0).path("data").path("userId").asText()).isEqualTo("bob");
            assertThat(kinds).doesNotContain("tool_result", "tool_call");
            assertThat(after.get(kinds.indexOf("text_delta")).path("data").path("text").asText()).containsIgnoringCase("denied");
            assertSingleTerminalLast(after, "turn_completed");
        }
    }

    @Test
    void decidingTheSameRequestTwiceIsAConflictWhileTheTurnRunsAndAfterItEnded() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String sid = alice.createSession("decide twice");
            alice.subscribe(sid);
            // the turn keeps running after the decision, so the second one meets the same turn
            String requestId = awaitPermissionRequest(alice, sid, "/sim permission hang").path("data").path("requestId")
                    .asText();
            assertThat(alice.request("permission_decision", "sessionId", sid, "requestId", requestId, "decision", "allow")
                    .path("type").asText()).isEqualTo("permission_decision_accepted");
            alice.eventsUntil(sid, "tool_result");
            assertError(alice.request("permission_decision", "sessionId", sid, "requestId", requestId, "decision", "deny"),
                    "conflict");
            assertThat(alice.request("cancel_turn", "sessionId", sid).path("type").asText()).isEqualTo("cancel_requested");
            alice.eventsUntilTurnEnds(sid);
            assertThat(alice.history(sid).stream().filter(e -> "permission_resolved".equals(e.path("kind").asText())))
                    .as("one resolution only").hasSize(1);

            // once the turn has completed, the request is still known as resolved
            String second = awaitPermissionRequest(alice, sid, "/sim permission").path("data").path("requestId").asText();
            assertThat(alice.request("permission_decision", "sessionId", sid, "requestId", second, "decision", "allow")
                    .path("type").asText()).isEqualTo("permission_decision_accepted");
            assertSingleTerminalLast(alice.eventsUntilTurnEnds(sid), "turn_completed");
            assertError(alice.request("permission_decision", "sessionId", sid, "requestId", second, "decision", "allow"),
                    "conflict");
            assertError(alice.request("permission_decision", "sessionId", sid, "requestId", requestId, "decision", "allow"),
                    "conflict");
            assertThat(alice.eventsBeforePong(sid)).as("refused decisions publish nothing").isEmpty();
        }
    }

    @Test
    void anUnknownRequestIdIsNotFound() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String sid = alice.createSession("unknown request");
            assertError(alice.request("permission_decision", "sessionId", sid, "requestId", "perm_nope", "decision", "allow"),
                    "not_found");

            alice.subscribe(sid);
            String requestId = awaitPermissionRequest(alice, sid, "/sim permission").path("data").path("requestId").asText();
            assertError(alice.request("permission_decision", "sessionId", sid, "requestId", "perm_nope", "decision", "allow"),
                    "not_found");
            assertThat(alice.eventsBeforePong(sid)).isEmpty();
            assertThat(alice.request("permission_decision", "sessionId", sid, "requestId", requestId, "decision", "deny")
                    .path("type").asText()).as("the real request is still pending").isEqualTo("permission_decision_accepted");
            assertSingleTerminalLast(alice.eventsUntilTurnEnds(sid), "turn_completed");
        }
    }

    @Test
    void simErrorFailsTheTurnWithAgentErrorAsTheOnlyTerminalEvent() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String sid = alice.createSession("error");
            alice.subscribe(sid);
            alice.sendMessage(sid, "/sim error");
            List<JsonNode> events = alice.eventsUntilTurnEnds(sid);

            assertThat(kinds(events)).contains("text_delta");
            assertSingleTerminalLast(events, "turn_failed");
            JsonNode failed = events.get(events.size() - 1).path("data");
            assertThat(failed.path("code").asText()).isEqualTo("agent_error");
            assertThat(failed.path("message").asText()).isNotBlank();
            assertThat(alice.eventsBeforePong(sid)).isEmpty();

            alice.sendMessage(sid, "still usable");
            assertSingleTerminalLast(alice.eventsUntilTurnEnds(sid), "turn_completed");
        }
    }

    @Test
    void aCompletedEchoTurnCarriesUsageAndEndTurn() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String sid = alice.createSession("usage");
            alice.subscribe(sid);
            alice.sendMessage(sid, "count my tokens please");
            List<JsonNode> events = alice.eventsUntilTurnEnds(sid);
            List<String> kinds = kinds(events);

            StringBuilder text = new StringBuilder();
            events.stream().filter(e -> "text_delta".equals(e.path("kind").asText()))
                    .forEach(e -> text.append(e.path("data").path("text").asText()));
            assertThat(text.toString()).isEqualTo("You said: count my tokens please");
            assertThat(kinds.stream().filter("usage"::equals)).hasSize(1);
            JsonNode usage = events.get(kinds.indexOf("usage")).path("data");
            assertThat(usage.path("inputTokens").isIntegralNumber()).isTrue();
            assertThat(usage.path("outputTokens").asLong()).isPositive();
            assertThat(kinds.indexOf("usage")).isLessThan(kinds.indexOf("turn_completed"));
            assertThat(events.get(events.size() - 1).path("data").path("stopReason").asText()).isEqualTo("end_turn");
        }
    }

    @Test
    void messageAcceptedCarriesTheTurnIdOfTheEventsAndClientMessageIdIsEchoed() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String sid = alice.createSession("ids");
            alice.subscribe(sid);
            JsonNode accepted = alice.request("send_message", "sessionId", sid, "text", "/sim tokens=3",
                    "clientMessageId", "client-42");
            assertThat(accepted.path("type").asText()).isEqualTo("message_accepted");
            assertThat(accepted.path("sessionId").asText()).isEqualTo(sid);
            String turnId = accepted.path("turnId").asText();
            assertThat(turnId).isNotBlank();

            List<JsonNode> events = alice.eventsUntilTurnEnds(sid);
            assertThat(events).allMatch(e -> turnId.equals(e.path("turnId").asText()));
            JsonNode user = events.get(0).path("data");
            assertThat(user.path("clientMessageId").asText()).isEqualTo("client-42");
            assertThat(user.path("text").asText()).isEqualTo("/sim tokens=3");
            assertThat(user.path("userId").asText()).isEqualTo("alice");

            alice.sendMessage(sid, "no client id");
            assertThat(alice.eventsUntilTurnEnds(sid).get(0).path("data").has("clientMessageId")).isFalse();
        }
    }

    @Test
    void concurrentSendsOnAnIdleSessionStartExactlyOneTurn() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
            for (int round = 0; round < 15; round++) {
                String sid = alice.createSession("concurrent sends " + round);
                alice.subscribe(sid);
                String a = WsClient.nextId();
                String b = WsClient.nextId();
                alice.send(WsClient.frame("send_message", "sessionId", sid, "text", "/sim hang").put("id", a));
                bob.send(WsClient.frame("send_message", "sessionId", sid, "text", "/sim hang").put("id", b));
                JsonNode fromAlice = alice.reply(a);
                JsonNode fromBob = bob.reply(b);

                List<String> types = List.of(fromAlice.path("type").asText(), fromBob.path("type").asText());
                assertThat(types).as("round %d", round).containsExactlyInAnyOrder("message_accepted", "error");
                JsonNode refused = "error".equals(types.get(0)) ? fromAlice : fromBob;
                JsonNode accepted = refused == fromAlice ? fromBob : fromAlice;
                assertThat(refused.path("code").asText()).isEqualTo("conflict");
                String winner = accepted == fromAlice ? "alice" : "bob";

                List<JsonNode> events = alice.eventsUntil(sid, "text_delta");
                assertThat(alice.request("cancel_turn", "sessionId", sid).path("turnId").asText())
                        .isEqualTo(accepted.path("turnId").asText());
                events.addAll(alice.eventsUntilTurnEnds(sid));
                assertThat(kinds(events).stream().filter("user_message"::equals)).as("round %d", round).hasSize(1);
                assertThat(events.get(0).path("data").path("userId").asText()).isEqualTo(winner);
                assertThat(events).allMatch(e -> accepted.path("turnId").asText().equals(e.path("turnId").asText()));
                assertThat(alice.eventsBeforePong(sid)).isEmpty();
            }
        }
    }

    @Test
    void aCancelRacingTheTurnsOwnEndYieldsExactlyOneTerminalEventThatMatchesTheReply() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
            String sid = alice.createSession("cancel race");
            alice.subscribe(sid);
            int cancelled = 0;
            for (int round = 0; round < 20; round++) {
                String sendId = WsClient.nextId();
                alice.send(WsClient.frame("send_message", "sessionId", sid, "text", "/sim tokens=" + (round * 100))
                        .put("id", sendId));
                List<JsonNode> events = alice.eventsUntil(sid, "turn_started");
                JsonNode reply = bob.request("cancel_turn", "sessionId", sid);
                events.addAll(alice.eventsUntilTurnEnds(sid));
                String turnId = alice.reply(sendId).path("turnId").asText();
                assertThat(events).allMatch(e -> turnId.equals(e.path("turnId").asText()));
                assertThat(alice.eventsBeforePong(sid)).as("round %d: events after the terminal one", round).isEmpty();

                if ("cancel_requested".equals(reply.path("type").asText())) {
                    cancelled++;
                    assertThat(reply.path("turnId").asText()).isEqualTo(turnId);
                    assertSingleTerminalLast(events, "turn_cancelled");
                } else {
                    assertThat(reply.path("code").asText()).as("round %d reply %s", round, reply).isEqualTo("conflict");
                    assertSingleTerminalLast(events, "turn_completed");
                }
            }
            List<JsonNode> stored = alice.history(sid);
            long turns = stored.stream().filter(e -> "user_message".equals(e.path("kind").asText())).count();
            long terminals = stored.stream().filter(e -> TERMINAL_KINDS.contains(e.path("kind").asText())).count();
            assertThat(terminals).as("one terminal event per turn").isEqualTo(turns).isEqualTo(20);
            assertThat(cancelled).as("both outcomes occur: short turns end first, long ones are cancelled")
                    .isBetween(1, 19);
        }
    }

    @Test
    void concurrentDecisionsOnOneRequestResolveItExactlyOnce() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
            String sid = alice.createSession("concurrent decisions");
            alice.subscribe(sid);
            for (int round = 0; round < 10; round++) {
                String requestId = awaitPermissionRequest(alice, sid, "/sim permission hang").path("data")
                        .path("requestId").asText();
                String a = WsClient.nextId();
                String b = WsClient.nextId();
                alice.send(WsClient.frame("permission_decision", "sessionId", sid, "requestId", requestId,
                        "decision", "allow").put("id", a));
                bob.send(WsClient.frame("permission_decision", "sessionId", sid, "requestId", requestId,
                        "decision", "deny").put("id", b));
                JsonNode fromAlice = alice.reply(a);
                JsonNode fromBob = bob.reply(b);
                List<String> types = List.of(fromAlice.path("type").asText(), fromBob.path("type").asText());
                assertThat(types).as("round %d", round)
                        .containsExactlyInAnyOrder("permission_decision_accepted", "error");
                boolean aliceWon = "permission_decision_accepted".equals(types.get(0));
                assertThat((aliceWon ? fromBob : fromAlice).path("code").asText()).isEqualTo("conflict");

                List<JsonNode> upToResolved = alice.eventsUntil(sid, "permission_resolved");
                JsonNode resolved = upToResolved.get(upToResolved.size() - 1).path("data");
                assertThat(resolved.path("decision").asText()).isEqualTo(aliceWon ? "allow" : "deny");
                assertThat(resolved.path("userId").asText()).isEqualTo(aliceWon ? "alice" : "bob");
                assertThat(alice.request("cancel_turn", "sessionId", sid).path("type").asText()).isEqualTo("cancel_requested");
                alice.eventsUntilTurnEnds(sid);
            }
            List<JsonNode> stored = alice.history(sid);
            List<JsonNode> resolutions = stored.stream().filter(e -> "permission_resolved".equals(e.path("kind").asText()))
                    .toList();
            assertThat(resolutions).as("one resolution per request").hasSize(10);
            for (JsonNode r : resolutions) {
                String decision = r.path("data").path("decision").asText();
                assertThat(r.path("data").path("userId").asText()).isEqualTo("allow".equals(decision) ? "alice" : "bob");
            }
        }
    }
}

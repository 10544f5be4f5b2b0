package io.diminuendo.agui;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.protocol.EventKind;

/**
 * The AG-UI mapping state machine on its own (docs/protocol.md, "4. AG-UI"): what each event kind becomes, the
 * open/close rules the client verifies, and exactly one terminal event per run.
 */
class RunTranslatorTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String THREAD = "5b3c9a52-2f0e-4d5e-9a53-0d7c2c7f1e11";
    private static final String TURN = "turn-1";

    /** The fields the AG-UI 1.0 schema defines on each event the gateway sends (plus {@code type}). */
    private static final Map<String, Set<String>> SCHEMA_FIELDS = Map.ofEntries(
            fields("RUN_STARTED", "threadId", "runId", "protocolVersion", "parentRunId", "input"),
            fields("RUN_FINISHED", "threadId", "runId", "result", "outcome", "usage"),
            fields("RUN_ERROR", "message", "code", "usage"),
            fields("TEXT_MESSAGE_START", "messageId", "role", "name", "subagentRunId"),
            fields("TEXT_MESSAGE_CONTENT", "messageId", "delta", "subagentRunId"),
            fields("TEXT_MESSAGE_END", "messageId", "subagentRunId"),
            fields("REASONING_START", "messageId", "subagentRunId"),
            fields("REASONING_MESSAGE_START", "messageId", "role", "subagentRunId"),
            fields("REASONING_MESSAGE_CONTENT", "messageId", "delta", "subagentRunId"),
            fields("REASONING_MESSAGE_END", "messageId", "subagentRunId"),
            fields("REASONING_END", "messageId", "subagentRunId"),
            fields("TOOL_CALL_START", "toolCallId", "toolCallName", "parentMessageId", "subagentRunId"),
            fields("TOOL_CALL_ARGS", "toolCallId", "delta", "subagentRunId"),
            fields("TOOL_CALL_END", "toolCallId", "subagentRunId"),
            fields("TOOL_CALL_RESULT", "messageId", "toolCallId", "content", "role", "subagentRunId"),
            fields("CUSTOM", "name", "value", "subagentRunId"));
    private static final Set<String> INTERRUPT_FIELDS = Set.of("id", "reason", "message", "toolCallId",
            "responseSchema", "expiresAt", "metadata", "subagentRunId");
    private static final Set<String> USAGE_FIELDS = Set.of("provider", "model", "inputTokens", "outputTokens",
            "totalTokens", "reasoningTokens", "cachedInputTokens", "cacheWriteInputTokens");

    private static Map.Entry<String, Set<String>> fields(String type, String... names) {
        Set<String> all = new HashSet<>(List.of(names));
        all.addAll(List.of("type", "timestamp", "rawEvent", "metadata"));
        return Map.entry(type, all);
    }

    private final RunTranslator translator = new RunTranslator(THREAD, "run-1", TURN);
    private final List<JsonNode> out = new ArrayList<>();
    private long seq;

    private void feed(EventKind kind, String data) {
        try {
            translator.accept(kind, ++seq, 1_700_000_000_000L + seq, JSON.readTree(data), json -> out.add(parse(json)));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }

    private List<String> types() {
        return out.stream().map(e -> e.path("type").asText()).toList();
    }

    private List<JsonNode> ofType(String type) {
        return out.stream().filter(e -> type.equals(e.path("type").asText())).toList();
    }

    @Test
    void theRunStartsWithRunStartedNamingThreadRunAndTurn() {
        translator.start(json -> out.add(parse(json)));
        JsonNode started = out.get(0);
        assertThat(started.path("type").asText()).isEqualTo("RUN_STARTED");
        assertThat(started.path("threadId").asText()).isEqualTo(THREAD);
        assertThat(started.path("runId").asText()).isEqualTo("run-1");
        assertThat(started.path("metadata").path("turnId").asText()).isEqualTo(TURN);
    }

    @Test
    void theUserMessageAndTurnStartedBecomeNothing() {
        feed(EventKind.USER_MESSAGE, "{\"text\":\"hi\",\"userId\":\"alice\"}");
        feed(EventKind.TURN_STARTED, "{}");
        assertThat(out).isEmpty();
        assertThat(translator.isEnded()).isFalse();
    }

    @Test
    void textDeltasStreamIntoOneAssistantMessageAndEmptyTextOpensNothing() {
        feed(EventKind.TEXT_DELTA, "{\"text\":\"\"}");
        assertThat(out).isEmpty();
        feed(EventKind.TEXT_DELTA, "{\"text\":\"Hel\"}");
        feed(EventKind.TEXT_DELTA, "{\"text\":\"\"}");
        feed(EventKind.TEXT_DELTA, "{\"text\":\"lo\"}");
        assertThat(types()).containsExactly("TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT");
        String id = out.get(0).path("messageId").asText();
        assertThat(out.get(0).path("role").asText()).isEqualTo("assistant");
        assertThat(out).allSatisfy(e -> assertThat(e.path("messageId").asText()).isEqualTo(id));
        assertThat(ofType("TEXT_MESSAGE_CONTENT")).extracting(e -> e.path("delta").asText()).containsExactly("Hel", "lo");
        assertThat(out.get(1).path("timestamp").asLong()).isEqualTo(1_700_000_000_002L);
    }

    @Test
    void thinkingOpensReasoningAndTextClosesItFirst() {
        feed(EventKind.THINKING_DELTA, "{\"text\":\"hmm \"}");
        feed(EventKind.THINKING_DELTA, "{\"text\":\"so\"}");
        feed(EventKind.TEXT_DELTA, "{\"text\":\"answer\"}");
        assertThat(types()).containsExactly("REASONING_START", "REASONING_MESSAGE_START", "REASONING_MESSAGE_CONTENT",
                "REASONING_MESSAGE_CONTENT", "REASONING_MESSAGE_END", "REASONING_END", "TEXT_MESSAGE_START",
                "TEXT_MESSAGE_CONTENT");
        assertThat(out.get(1).path("role").asText()).isEqualTo("reasoning");
        assertThat(out.get(0).path("messageId").asText()).isEqualTo(out.get(5).path("messageId").asText());
        assertThat(out.get(6).path("messageId").asText()).isNotEqualTo(out.get(0).path("messageId").asText());
    }

    @Test
    void thinkingClosesAnOpenTextMessageAndLaterTextStartsANewOne() {
        feed(EventKind.TEXT_DELTA, "{\"text\":\"a\"}");
        feed(EventKind.THINKING_DELTA, "{\"text\":\"b\"}");
        feed(EventKind.TEXT_DELTA, "{\"text\":\"c\"}");
        assertThat(types()).containsExactly("TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END",
                "REASONING_START", "REASONING_MESSAGE_START", "REASONING_MESSAGE_CONTENT", "REASONING_MESSAGE_END",
                "REASONING_END", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT");
        assertThat(ofType("TEXT_MESSAGE_START")).extracting(e -> e.path("messageId").asText()).doesNotHaveDuplicates();
    }

    @Test
    void aToolCallClosesWhatIsOpenAndIsAnnouncedOnceWithItsInputAsArguments() {
        feed(EventKind.TEXT_DELTA, "{\"text\":\"Let me look.\"}");
        feed(EventKind.TOOL_CALL, "{\"toolCallId\":\"t1\",\"name\":\"read_file\",\"input\":{\"path\":\"a.txt\"}}");
        feed(EventKind.TOOL_CALL, "{\"toolCallId\":\"t1\",\"name\":\"read_file\",\"input\":{\"path\":\"a.txt\"}}");
        assertThat(types()).containsExactly("TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END",
                "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END");
        JsonNode start = ofType("TOOL_CALL_START").get(0);
        assertThat(start.path("toolCallId").asText()).isEqualTo("t1");
        assertThat(start.path("toolCallName").asText()).isEqualTo("read_file");
        assertThat(start.path("parentMessageId").asText()).isEqualTo(out.get(0).path("messageId").asText());
        assertThat(parse(ofType("TOOL_CALL_ARGS").get(0).path("delta").asText()))
                .isEqualTo(parse("{\"path\":\"a.txt\"}"));
    }

    @Test
    void aToolCallWithoutEarlierTextNamesNoParentMessage() {
        feed(EventKind.TOOL_CALL, "{\"toolCallId\":\"t1\",\"name\":\"ls\",\"input\":{}}");
        assertThat(ofType("TOOL_CALL_START").get(0).has("parentMessageId")).isFalse();
    }

    @Test
    void aToolResultClosesWhatIsOpenHasItsOwnMessageIdAndCarriesIsErrorUnderMetadata() {
        feed(EventKind.TOOL_CALL, "{\"toolCallId\":\"t1\",\"name\":\"ls\",\"input\":{}}");
        feed(EventKind.THINKING_DELTA, "{\"text\":\"ok\"}");
        feed(EventKind.TOOL_RESULT, "{\"toolCallId\":\"t1\",\"output\":\"total 0\",\"isError\":true}");
        feed(EventKind.TOOL_RESULT, "{\"toolCallId\":\"t1\",\"output\":{\"lines\":2},\"isError\":false}");
        List<JsonNode> results = ofType("TOOL_CALL_RESULT");
        assertThat(types().subList(6, 9)).containsExactly("REASONING_MESSAGE_END", "REASONING_END", "TOOL_CALL_RESULT");
        assertThat(results.get(0).path("toolCallId").asText()).isEqualTo("t1");
        assertThat(results.get(0).path("messageId").asText()).isNotEqualTo("t1");
        assertThat(results.get(0).path("role").asText()).isEqualTo("tool");
        assertThat(results.get(0).path("content").asText()).isEqualTo("total 0");
        assertThat(results.get(0).path("metadata").path("isError").asBoolean()).isTrue();
        assertThat(parse(results.get(1).path("content").asText())).isEqualTo(parse("{\"lines\":2}"));
        assertThat(results.get(1).path("metadata").path("isError").asBoolean()).isFalse();
        assertThat(results.get(1).path("messageId").asText()).isNotEqualTo(results.get(0).path("messageId").asText());
    }

    @Test
    void aPermissionRequestAnnouncesItsToolCallAndEndsTheRunWithAnInterrupt() {
        feed(EventKind.TEXT_DELTA, "{\"text\":\"I need to run ls.\"}");
        feed(EventKind.USAGE, "{\"inputTokens\":3,\"outputTokens\":4}");
        feed(EventKind.PERMISSION_REQUEST,
                "{\"requestId\":\"perm_1\",\"toolCallId\":\"t9\",\"name\":\"run_command\",\"input\":{\"command\":\"ls\"}}");
        assertThat(types()).containsExactly("TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END",
                "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "RUN_FINISHED");
        JsonNode finished = out.get(6);
        assertThat(finished.path("threadId").asText()).isEqualTo(THREAD);
        JsonNode outcome = finished.path("outcome");
        assertThat(outcome.path("type").asText()).isEqualTo("interrupt");
        assertThat(outcome.path("interrupts")).hasSize(1);
        JsonNode interrupt = outcome.path("interrupts").get(0);
        assertThat(interrupt.path("id").asText()).isEqualTo("perm_1");
        assertThat(interrupt.path("reason").asText()).isEqualTo("tool_approval");
        assertThat(interrupt.path("toolCallId").asText()).isEqualTo("t9");
        assertThat(interrupt.path("responseSchema").path("properties").path("decision").path("enum").toString())
                .isEqualTo("[\"allow\",\"deny\"]");
        assertThat(finished.path("usage").get(0).path("totalTokens").asLong()).isEqualTo(7);
        assertThat(translator.outcome()).isEqualTo(RunTranslator.Outcome.INTERRUPT);
    }

    @Test
    void aToolCallAnnouncedBeforeIsNotAnnouncedAgainByItsPermissionRequest() {
        feed(EventKind.TOOL_CALL, "{\"toolCallId\":\"t1\",\"name\":\"ls\",\"input\":{}}");
        feed(EventKind.PERMISSION_REQUEST, "{\"requestId\":\"p\",\"toolCallId\":\"t1\",\"name\":\"ls\",\"input\":{}}");
        assertThat(types()).containsExactly("TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "RUN_FINISHED");
    }

    @Test
    void aToolCallAnnouncedByAnEarlierRunOfTheTurnIsNotAnnouncedAgain() {
        translator.announcedBefore("t1");
        translator.rememberUsage(JSON.createObjectNode().put("inputTokens", 1).put("outputTokens", 2));
        feed(EventKind.TOOL_CALL, "{\"toolCallId\":\"t1\",\"name\":\"ls\",\"input\":{}}");
        feed(EventKind.TOOL_RESULT, "{\"toolCallId\":\"t1\",\"output\":\"done\",\"isError\":false}");
        feed(EventKind.TURN_COMPLETED, "{\"stopReason\":\"end_turn\"}");
        assertThat(types()).containsExactly("TOOL_CALL_RESULT", "RUN_FINISHED");
        assertThat(out.get(1).path("usage").get(0).path("totalTokens").asLong()).isEqualTo(3);
    }

    @Test
    void permissionResolvedAndStatusBecomeCustomEventsWithTheirData() {
        feed(EventKind.TEXT_DELTA, "{\"text\":\"a\"}");
        feed(EventKind.PERMISSION_RESOLVED, "{\"requestId\":\"p\",\"decision\":\"allow\",\"userId\":\"alice\"}");
        feed(EventKind.STATUS, "{\"state\":\"compacting\",\"detail\":\"x\"}");
        List<JsonNode> custom = ofType("CUSTOM");
        assertThat(custom).extracting(e -> e.path("name").asText())
                .containsExactly("diminuendo.permission_resolved", "diminuendo.status");
        assertThat(custom.get(0).path("value").path("decision").asText()).isEqualTo("allow");
        assertThat(custom.get(1).path("value").path("state").asText()).isEqualTo("compacting");
        assertThat(types()).doesNotContain("TEXT_MESSAGE_END");
    }

    @Test
    void completionClosesWhatIsOpenAndFinishesWithSuccessUsageAndTheStopReasonUnderMetadata() {
        feed(EventKind.TEXT_DELTA, "{\"text\":\"done\"}");
        feed(EventKind.USAGE, "{\"inputTokens\":1,\"outputTokens\":1}");
        feed(EventKind.USAGE, "{\"inputTokens\":10,\"outputTokens\":5}");
        feed(EventKind.TURN_COMPLETED, "{\"stopReason\":\"max_tokens\"}");
        assertThat(types()).containsExactly("TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END",
                "RUN_FINISHED");
        JsonNode finished = out.get(3);
        assertThat(finished.path("outcome").path("type").asText()).isEqualTo("success");
        assertThat(finished.path("runId").asText()).isEqualTo("run-1");
        assertThat(finished.path("metadata").path("stopReason").asText()).isEqualTo("max_tokens");
        JsonNode usage = finished.path("usage").get(0);
        assertThat(usage.path("inputTokens").asLong()).isEqualTo(10);
        assertThat(usage.path("outputTokens").asLong()).isEqualTo(5);
        assertThat(usage.path("totalTokens").asLong()).isEqualTo(15);
        assertThat(translator.outcome()).isEqualTo(RunTranslator.Outcome.SUCCESS);
    }

    @Test
    void aFailedTurnClosesWhatIsOpenAndEndsWithRunErrorCarryingItsCodeAndMessage() {
        feed(EventKind.THINKING_DELTA, "{\"text\":\"hm\"}");
        feed(EventKind.TURN_FAILED, "{\"code\":\"agent_error\",\"message\":\"it broke\"}");
        assertThat(types()).endsWith("REASONING_MESSAGE_END", "REASONING_END", "RUN_ERROR");
        JsonNode error = out.get(out.size() - 1);
        assertThat(error.path("code").asText()).isEqualTo("agent_error");
        assertThat(error.path("message").asText()).isEqualTo("it broke");
        assertThat(translator.outcome()).isEqualTo(RunTranslator.Outcome.ERROR);
    }

    @Test
    void aCancelledTurnFinishesWithOutcomeCancelled() {
        feed(EventKind.TEXT_DELTA, "{\"text\":\"a\"}");
        feed(EventKind.TURN_CANCELLED, "{\"userId\":\"alice\"}");
        assertThat(types()).containsExactly("TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END",
                "RUN_FINISHED");
        assertThat(out.get(3).path("outcome").path("type").asText()).isEqualTo("cancelled");
        assertThat(translator.outcome()).isEqualTo(RunTranslator.Outcome.CANCELLED);
    }

    @Test
    void nothingFollowsTheTerminalEvent() {
        feed(EventKind.TURN_COMPLETED, "{\"stopReason\":\"end_turn\"}");
        int written = out.size();
        feed(EventKind.TEXT_DELTA, "{\"text\":\"late\"}");
        feed(EventKind.TURN_FAILED, "{\"code\":\"x\",\"message\":\"y\"}");
        translator.fail("session_deleted", "gone", json -> out.add(parse(json)));
        assertThat(out).hasSize(written);
        assertThat(translator.outcome()).isEqualTo(RunTranslator.Outcome.SUCCESS);
    }

    @Test
    void aGatewayFailureClosesWhatIsOpenAndEndsTheRunWithRunError() {
        feed(EventKind.TEXT_DELTA, "{\"text\":\"a\"}");
        translator.fail("session_deleted", "the session was deleted", json -> out.add(parse(json)));
        assertThat(types()).containsExactly("TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_ERROR");
        assertThat(out.get(3).path("code").asText()).isEqualTo("session_deleted");
    }

    /**
     * Random turns, every kind in any order a backend could produce: the output always keeps the client's rules
     * (checked by {@link ClientRules}) and holds only fields the AG-UI schema defines.
     */
    @Test
    void anyTurnMapsToEventsThatKeepTheClientsRulesAndTheSchema() {
        Random random = new Random(14);
        EventKind[] middle = { EventKind.TEXT_DELTA, EventKind.THINKING_DELTA, EventKind.TOOL_CALL,
                EventKind.TOOL_RESULT, EventKind.PERMISSION_RESOLVED, EventKind.STATUS, EventKind.USAGE,
                EventKind.PERMISSION_REQUEST };
        EventKind[] terminal = { EventKind.TURN_COMPLETED, EventKind.TURN_FAILED, EventKind.TURN_CANCELLED };
        Set<EventKind> seen = new HashSet<>();
        for (int round = 0; round < 2000; round++) {
            RunTranslator t = new RunTranslator(THREAD, "run-" + round, "turn-" + round);
            List<JsonNode> events = new ArrayList<>();
            RunTranslator.Output sink = json -> events.add(parse(json));
            t.start(sink);
            long s = 0;
            feedTo(t, EventKind.USER_MESSAGE, ++s, sink);
            feedTo(t, EventKind.TURN_STARTED, ++s, sink);
            int n = random.nextInt(30);
            for (int i = 0; i < n; i++) {
                EventKind kind = middle[random.nextInt(middle.length)];
                // permission requests end a run: mostly let the turn go on to its end
                if (kind == EventKind.PERMISSION_REQUEST && random.nextInt(4) != 0) {
                    kind = EventKind.TEXT_DELTA;
                }
                seen.add(kind);
                feedTo(t, kind, ++s, sink);
            }
            EventKind end = terminal[random.nextInt(terminal.length)];
            seen.add(end);
            feedTo(t, end, ++s, sink);
            assertThat(t.isEnded()).isTrue();
            ClientRules.check(events);
            for (JsonNode e : events) {
                assertThat(fieldsOutsideSchema(e)).as(e.toString()).isEmpty();
            }
        }
        assertThat(seen).containsAll(List.of(middle)).containsAll(List.of(terminal));
    }

    private static void feedTo(RunTranslator t, EventKind kind, long seq, RunTranslator.Output sink) {
        String data = switch (kind) {
            case USER_MESSAGE -> "{\"text\":\"hi\",\"userId\":\"alice\"}";
            case TURN_STARTED -> "{}";
            case TEXT_DELTA, THINKING_DELTA -> seq % 7 == 0 ? "{\"text\":\"\"}" : "{\"text\":\"w" + seq + " \"}";
            case TOOL_CALL -> "{\"toolCallId\":\"t" + (seq % 3) + "\",\"name\":\"ls\",\"input\":{\"n\":" + seq + "}}";
            case TOOL_RESULT -> "{\"toolCallId\":\"t" + (seq % 3) + "\",\"output\":\"ok\",\"isError\":false}";
            case PERMISSION_REQUEST -> "{\"requestId\":\"p" + seq + "\",\"toolCallId\":\"t" + (seq % 3)
                    + "\",\"name\":\"ls\",\"input\":{}}";
            case PERMISSION_RESOLVED -> "{\"requestId\":\"p\",\"decision\":\"deny\",\"userId\":\"bob\"}";
            case STATUS -> "{\"state\":\"working\"}";
            case USAGE -> "{\"inputTokens\":" + seq + ",\"outputTokens\":2}";
            case TURN_COMPLETED -> "{\"stopReason\":\"end_turn\"}";
            case TURN_FAILED -> "{\"code\":\"agent_error\",\"message\":\"boom\"}";
            case TURN_CANCELLED -> "{\"userId\":\"alice\"}";
        };
        t.accept(kind, seq, 1_700_000_000_000L + seq, parse(data), sink);
    }

    private static List<String> fieldsOutsideSchema(JsonNode event) {
        List<String> extra = new ArrayList<>();
        Set<String> allowed = SCHEMA_FIELDS.get(event.path("type").asText());
        if (allowed == null) {
            return List.of("unexpected event type " + event.path("type").asText());
        }
        event.fieldNames().forEachRemaining(f -> {
            if (!allowed.contains(f)) {
                extra.add(f);
            }
        });
        event.path("usage").forEach(u -> u.fieldNames().forEachRemaining(f -> {
            if (!USAGE_FIELDS.contains(f)) {
                extra.add("usage." + f);
            }
        }));
        event.path("outcome").path("interrupts").forEach(i -> i.fieldNames().forEachRemaining(f -> {
            if (!INTERRUPT_FIELDS.contains(f)) {
                extra.add("interrupts." + f);
            }
        }));
        JsonNode outcome = event.path("outcome");
        if (outcome.isObject()) {
            Set<String> allowedOutcome = switch (outcome.path("type").asText()) {
                case "success" -> Set.of("type", "pendingToolCallIds");
                case "interrupt" -> Set.of("type", "interrupts");
                case "cancelled" -> Set.of("type");
                default -> Set.of();
            };
            outcome.fieldNames().forEachRemaining(f -> {
                if (!allowedOutcome.contains(f)) {
                    extra.add("outcome." + f);
                }
            });
        }
        return extra;
    }

    /** The ordering rules the AG-UI client verifies, restated: a run's events must pass them. */
    static final class ClientRules {
        static void check(List<JsonNode> events) {
            assertThat(events).isNotEmpty();
            assertThat(events.get(0).path("type").asText()).isEqualTo("RUN_STARTED");
            Set<String> openText = new HashSet<>();
            Set<String> openReasoning = new HashSet<>();
            Set<String> openReasoningSpans = new HashSet<>();
            Set<String> openTools = new HashSet<>();
            Set<String> messageIds = new HashSet<>();
            int terminals = 0;
            for (int i = 1; i < events.size(); i++) {
                JsonNode e = events.get(i);
                String type = e.path("type").asText();
                assertThat(terminals).as("an event after the terminal one: " + e).isZero();
                switch (type) {
                    case "TEXT_MESSAGE_START" -> {
                        assertThat(messageIds.add(e.path("messageId").asText())).as("message id reused").isTrue();
                        assertThat(openText.add(e.path("messageId").asText())).isTrue();
                    }
                    case "TEXT_MESSAGE_CONTENT" -> {
                        assertThat(openText).contains(e.path("messageId").asText());
                        assertThat(e.path("delta").asText()).isNotEmpty();
                    }
                    case "TEXT_MESSAGE_END" -> assertThat(openText.remove(e.path("messageId").asText())).isTrue();
                    case "REASONING_START" -> assertThat(openReasoningSpans.add(e.path("messageId").asText())).isTrue();
                    case "REASONING_MESSAGE_START" -> {
                        assertThat(messageIds.add(e.path("messageId").asText())).as("message id reused").isTrue();
                        assertThat(openReasoning.add(e.path("messageId").asText())).isTrue();
                    }
                    case "REASONING_MESSAGE_CONTENT" -> assertThat(openReasoning).contains(e.path("messageId").asText());
                    case "REASONING_MESSAGE_END" -> assertThat(openReasoning.remove(e.path("messageId").asText())).isTrue();
                    case "REASONING_END" -> assertThat(openReasoningSpans.remove(e.path("messageId").asText())).isTrue();
                    case "TOOL_CALL_START" -> assertThat(openTools.add(e.path("toolCallId").asText())).isTrue();
                    case "TOOL_CALL_ARGS" -> assertThat(openTools).contains(e.path("toolCallId").asText());
                    case "TOOL_CALL_END" -> assertThat(openTools.remove(e.path("toolCallId").asText())).isTrue();
                    case "TOOL_CALL_RESULT" -> assertThat(messageIds.add(e.path("messageId").asText())).isTrue();
                    case "RUN_FINISHED" -> {
                        assertThat(openText).isEmpty();
                        assertThat(openReasoning).isEmpty();
                        assertThat(openReasoningSpans).isEmpty();
                        assertThat(openTools).isEmpty();
                        terminals++;
                    }
                    case "RUN_ERROR" -> terminals++;
                    case "CUSTOM" -> assertThat(e.path("name").asText()).startsWith("diminuendo.");
                    default -> throw new AssertionError("unexpected event " + e);
                }
                // never text and reasoning open at once
                assertThat(openText.isEmpty() || openReasoning.isEmpty()).as("text and reasoning open at once").isTrue();
            }
            assertThat(terminals).as("terminal events").isEqualTo(1);
        }
    }
}

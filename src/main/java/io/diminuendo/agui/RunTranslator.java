package io.diminuendo.agui;

import java.util.HashSet;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.protocol.EventKind;
import io.diminuendo.protocol.Json;

/**
 * One AG-UI run's state machine (docs/protocol.md, "4. AG-UI"): takes the events of one Diminuendo turn in seq order
 * and writes the AG-UI events that stand for them, keeping the rules the client verifies.
 * <ul>
 * <li>At most one text message and one reasoning message are open, never both: text closes reasoning, thinking
 * closes text, and a tool call, a tool result, an interrupt or the end of the run close whatever is open.</li>
 * <li>A tool call is announced ({@code TOOL_CALL_START/ARGS/END}) once per id, also across the runs of one turn
 * ({@link #announcedBefore}).</li>
 * <li>The run ends with exactly one terminal event, {@code RUN_FINISHED} or {@code RUN_ERROR}, and nothing
 * follows it; {@link #outcome()} then says which.</li>
 * </ul>
 * Anything the AG-UI schema does not define travels under {@code metadata}. Not thread-safe: a run feeds it from
 * one thread at a time.
 */
final class RunTranslator {
    /** Where the AG-UI events go, each as one JSON object. */
    @FunctionalInterface
    interface Output {
        void event(String json);
    }

    /** How a run ended; the label of {@code diminuendo_agui_runs_ended_total}. */
    enum Outcome {
        SUCCESS("success"),
        INTERRUPT("interrupt"),
        CANCELLED("cancelled"),
        ERROR("error"),
        /** The client went away before the terminal event; never written, counted by the run. */
        DISCONNECTED("disconnected");

        private final String label;

        Outcome(String label) {
            this.label = label;
        }

        String label() {
            return label;
        }
    }

    /** The answer an interrupt asks for, as a JSON schema: {@code {"decision": "allow" | "deny"}}. */
    static final String DECISION_SCHEMA = "{\"type\":\"object\",\"properties\":{\"decision\":{\"type\":\"string\","
            + "\"enum\":[\"allow\",\"deny\"]}},\"required\":[\"decision\"]}";
    static final String INTERRUPT_REASON = "tool_approval";

    private final String threadId;
    private final String runId;
    private final String turnId;
    private final Set<String> announced = new HashSet<>();
    private String openText;
    private String openReasoning;
    /** The last text message of this run: tool calls that follow it belong to it. */
    private String lastText;
    /** The turn's latest usage as an AG-UI usage array, sent on the terminal event. */
    private String usage;
    private Outcome outcome;

    RunTranslator(String threadId, String runId, String turnId) {
        this.threadId = threadId;
        this.runId = runId;
        this.turnId = turnId;
    }

    /** A tool call that an earlier run of the same turn announced already: it is not announced again. */
    void announcedBefore(String toolCallId) {
        announced.add(toolCallId);
    }

    /** The first event of every run. */
    void start(Output out) {
        out.event(Json.obj().str("type", "RUN_STARTED").str("threadId", threadId).str("runId", runId)
                .raw("metadata", Json.obj().str("turnId", turnId).end()).end());
    }

    /** Null while the run goes on; how it ended once its terminal event was written. */
    Outcome outcome() {
        return outcome;
    }

    boolean isEnded() {
        return outcome != null;
    }

    /** Remembers the usage of a {@code usage} event's data without writing anything (also for earlier runs). */
    void rememberUsage(JsonNode data) {
        long in = data.path("inputTokens").asLong(0);
        long out = data.path("outputTokens").asLong(0);
        usage = "[" + Json.obj().num("inputTokens", in).num("outputTokens", out).num("totalTokens", in + out).end() + "]";
    }

    /** Translates one event of the turn; nothing once the run has ended. */
    void accept(EventKind kind, long seq, long ts, JsonNode data, Output out) {
        if (outcome != null) {
            return;
        }
        // a switch expression, so the compiler insists on every kind
        Outcome ended = switch (kind) {
            case USER_MESSAGE, TURN_STARTED -> null;
            case TEXT_DELTA -> text(seq, ts, data.path("text").asText(""), out);
            case THINKING_DELTA -> thinking(seq, ts, data.path("text").asText(""), out);
            case TOOL_CALL -> {
                closeAll(ts, out);
                announce(data.path("toolCallId").asText(), data.path("name").asText(), data.path("input"), ts, out);
                yield null;
            }
            case TOOL_RESULT -> toolResult(seq, ts, data, out);
            case PERMISSION_REQUEST -> interrupt(ts, data, out);
            case PERMISSION_RESOLVED, STATUS -> {
                out.event(event("CUSTOM", ts).str("name", "diminuendo." + kind.wire()).raw("value", data.toString())
                        .end());
                yield null;
            }
            case USAGE -> {
                rememberUsage(data);
                yield null;
            }
            case TURN_COMPLETED -> {
                closeAll(ts, out);
                out.event(finished(ts, "{\"type\":\"success\"}")
                        .raw("metadata", Json.obj().str("stopReason", data.path("stopReason").asText("end_turn")).end())
                        .end());
                yield Outcome.SUCCESS;
            }
            case TURN_FAILED -> {
                closeAll(ts, out);
                out.event(runError(ts, data.path("code").asText("agent_error"),
                        data.path("message").asText("the turn failed")));
                yield Outcome.ERROR;
            }
            case TURN_CANCELLED -> {
                closeAll(ts, out);
                out.event(finished(ts, "{\"type\":\"cancelled\"}").end());
                yield Outcome.CANCELLED;
            }
        };
        outcome = ended;
    }

    /**
     * Ends the run with {@code RUN_ERROR} for a failure of the gateway rather than of the turn (the session was
     * deleted, the client read nothing for too long); nothing if the run has ended already.
     */
    void fail(String code, String message, Output out) {
        if (outcome == null) {
            closeAll(0, out);
            out.event(runError(0, code, message));
            outcome = Outcome.ERROR;
        }
    }

    private Outcome text(long seq, long ts, String delta, Output out) {
        if (delta.isEmpty()) {
            return null;
        }
        closeReasoning(ts, out);
        if (openText == null) {
            openText = messageId("text", seq);
            lastText = openText;
            out.event(event("TEXT_MESSAGE_START", ts).str("messageId", openText).str("role", "assistant").end());
        }
        out.event(event("TEXT_MESSAGE_CONTENT", ts).str("messageId", openText).str("delta", delta).end());
        return null;
    }

    private Outcome thinking(long seq, long ts, String delta, Output out) {
        if (delta.isEmpty()) {
            return null;
        }
        closeText(ts, out);
        if (openReasoning == null) {
            openReasoning = messageId("reasoning", seq);
            out.event(event("REASONING_START", ts).str("messageId", openReasoning).end());
            out.event(event("REASONING_MESSAGE_START", ts).str("messageId", openReasoning).str("role", "reasoning").end());
        }
        out.event(event("REASONING_MESSAGE_CONTENT", ts).str("messageId", openReasoning).str("delta", delta).end());
        return null;
    }

    private Outcome toolResult(long seq, long ts, JsonNode data, Output out) {
        closeAll(ts, out);
        JsonNode output = data.path("output");
        String content = output.isTextual() ? output.textValue() : output.isMissingNode() || output.isNull() ? ""
                : output.toString();
        out.event(event("TOOL_CALL_RESULT", ts).str("messageId", messageId("result", seq))
                .str("toolCallId", data.path("toolCallId").asText()).str("role", "tool").str("content", content)
                .raw("metadata", Json.obj().bool("isError", data.path("isError").asBoolean(false)).end()).end());
        return null;
    }

    /** A permission request ends the run with an interrupt; the turn keeps waiting for the decision. */
    private Outcome interrupt(long ts, JsonNode data, Output out) {
        closeAll(ts, out);
        String toolCallId = data.path("toolCallId").asText();
        String name = data.path("name").asText();
        JsonNode input = data.path("input");
        announce(toolCallId, name, input, ts, out);
        String interrupt = Json.obj().str("id", data.path("requestId").asText()).str("reason", INTERRUPT_REASON)
                .str("message", "The agent asks to run the tool " + name + ".").str("toolCallId", toolCallId)
                .raw("responseSchema", DECISION_SCHEMA)
                .raw("metadata", Json.obj().str("toolName", name).raw("input", input.isMissingNode() ? "{}" : input.toString())
                        .end())
                .end();
        out.event(finished(ts, Json.obj().str("type", "interrupt").raw("interrupts", "[" + interrupt + "]").end()).end());
        return Outcome.INTERRUPT;
    }

    private void announce(String toolCallId, String name, JsonNode input, long ts, Output out) {
        if (!announced.add(toolCallId)) {
            return;
        }
        Json.Obj start = event("TOOL_CALL_START", ts).str("toolCallId", toolCallId).str("toolCallName", name);
        if (lastText != null) {
            start.str("parentMessageId", lastText);
        }
        out.event(start.end());
        out.event(event("TOOL_CALL_ARGS", ts).str("toolCallId", toolCallId)
                .str("delta", input.isMissingNode() || input.isNull() ? "{}" : input.toString()).end());
        out.event(event("TOOL_CALL_END", ts).str("toolCallId", toolCallId).end());
    }

    private void closeAll(long ts, Output out) {
        closeText(ts, out);
        closeReasoning(ts, out);
    }

    private void closeText(long ts, Output out) {
        if (openText != null) {
            out.event(event("TEXT_MESSAGE_END", ts).str("messageId", openText).end());
            openText = null;
        }
    }

    private void closeReasoning(long ts, Output out) {
        if (openReasoning != null) {
            out.event(event("REASONING_MESSAGE_END", ts).str("messageId", openReasoning).end());
            out.event(event("REASONING_END", ts).str("messageId", openReasoning).end());
            openReasoning = null;
        }
    }

    private Json.Obj finished(long ts, String outcomeJson) {
        Json.Obj o = event("RUN_FINISHED", ts).str("threadId", threadId).str("runId", runId).raw("outcome", outcomeJson);
        return usage == null ? o : o.raw("usage", usage);
    }

    private String runError(long ts, String code, String message) {
        Json.Obj o = event("RUN_ERROR", ts).str("message", message).str("code", code);
        return (usage == null ? o : o.raw("usage", usage)).end();
    }

    /** Ids unique in the thread: the session seq is never reused, the turn id tells sessions recreated apart. */
    private String messageId(String what, long seq) {
        return what + "-" + seq + "-" + turnId;
    }

    private static Json.Obj event(String type, long ts) {
        Json.Obj o = Json.obj().str("type", type);
        return ts > 0 ? o.num("timestamp", ts) : o;
    }
}

package io.diminuendo.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.protocol.EventKind;

/** The backend → client mapping (docs/protocol.md, "3. Agent backend protocol"), without Quarkus (no metrics). */
class EventMapperTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One mapped client event: its kind and its parsed data object. */
    record Mapped(String kind, JsonNode data) {
    }

    private final EventMapper mapper = new EventMapper(null);
    private final List<Mapped> out = new ArrayList<>();

    private List<Mapped> feed(BackendEvent... events) {
        for (BackendEvent e : events) {
            mapper.map(e, (kind, dataJson) -> {
                try {
                    out.add(new Mapped(kind.wire(), JSON.readTree(dataJson)));
                } catch (Exception ex) {
                    throw new AssertionError("mapper produced data that is not JSON: " + dataJson, ex);
                }
            });
        }
        return out;
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static List<String> kinds(List<Mapped> mapped) {
        return mapped.stream().map(Mapped::kind).toList();
    }

    @Test
    void mapsTextAndThinkingDeltasOneToOne() {
        List<Mapped> mapped = feed(
                new BackendEvent.MessageStart(),
                new BackendEvent.BlockStart(0, "thinking", null, null),
                new BackendEvent.ThinkingDelta(0, "hmm "),
                new BackendEvent.ThinkingDelta(0, "ok"),
                new BackendEvent.BlockStop(0),
                new BackendEvent.BlockStart(1, "text", null, null),
                new BackendEvent.TextDelta(1, "Hello, "),
                new BackendEvent.TextDelta(1, "\"world\"\n"),
                new BackendEvent.TextDelta(1, ""),
                new BackendEvent.BlockStop(1));

        assertThat(kinds(mapped)).containsExactly("thinking_delta", "thinking_delta", "text_delta", "text_delta",
                "text_delta");
        assertThat(mapped.get(0).data()).isEqualTo(json("{\"text\":\"hmm \"}"));
        assertThat(mapped.get(1).data()).isEqualTo(json("{\"text\":\"ok\"}"));
        assertThat(mapped.get(2).data()).isEqualTo(json("{\"text\":\"Hello, \"}"));
        assertThat(mapped.get(3).data().path("text").asText()).isEqualTo("\"world\"\n");
        assertThat(mapped.get(4).data().path("text").asText()).isEmpty();
    }

    @Test
    void joinsInterleavedToolInputFragmentsPerIndexAndEmitsEachAtItsOwnBlockStop() {
        List<Mapped> mapped = feed(
                new BackendEvent.BlockStart(1, "tool_use", "toolu_a", "read_file"),
                new BackendEvent.BlockStart(2, "tool_use", "toolu_b", "grep"),
                new BackendEvent.InputJsonDelta(1, "{\"pa"),
                new BackendEvent.InputJsonDelta(2, "{\"pattern\":"),
                new BackendEvent.InputJsonDelta(1, "th\":\"a.txt\","),
                new BackendEvent.InputJsonDelta(2, " \"TODO\"}"),
                new BackendEvent.InputJsonDelta(1, "\"limit\":10}"));

        assertThat(mapped).as("nothing is emitted before a tool block stops").isEmpty();

        feed(new BackendEvent.BlockStop(2));
        assertThat(kinds(mapped)).containsExactly("tool_call");
        assertThat(mapped.get(0).data()).isEqualTo(json(
                "{\"toolCallId\":\"toolu_b\",\"name\":\"grep\",\"input\":{\"pattern\":\"TODO\"}}"));

        feed(new BackendEvent.BlockStop(1));
        assertThat(kinds(mapped)).containsExactly("tool_call", "tool_call");
        assertThat(mapped.get(1).data()).isEqualTo(json(
                "{\"toolCallId\":\"toolu_a\",\"name\":\"read_file\",\"input\":{\"path\":\"a.txt\",\"limit\":10}}"));
    }

    @Test
    void aToolBlockIsEmittedOnceAndItsIndexCanBeReused() {
        List<Mapped> mapped = feed(
                new BackendEvent.BlockStart(0, "tool_use", "toolu_1", "one"),
                new BackendEvent.InputJsonDelta(0, "{\"n\":1}"),
                new BackendEvent.BlockStop(0),
                new BackendEvent.BlockStop(0),
                new BackendEvent.BlockStart(0, "tool_use", "toolu_2", "two"),
                new BackendEvent.InputJsonDelta(0, "{\"n\":2}"),
                new BackendEvent.BlockStop(0));

        assertThat(kinds(mapped)).containsExactly("tool_call", "tool_call");
        assertThat(mapped.get(0).data().path("input")).isEqualTo(json("{\"n\":1}"));
        assertThat(mapped.get(1).data().path("toolCallId").asText()).isEqualTo("toolu_2");
        assertThat(mapped.get(1).data().path("input")).as("the second block starts from empty input")
                .isEqualTo(json("{\"n\":2}"));
    }

    @Test
    void wrapsToolInputThatIsNotAnObject() {
        List<Mapped> mapped = feed(
                new BackendEvent.BlockStart(0, "tool_use", "toolu_arr", "list"),
                new BackendEvent.InputJsonDelta(0, "[1,"),
                new BackendEvent.InputJsonDelta(0, "2]"),
                new BackendEvent.BlockStop(0),
                new BackendEvent.BlockStart(1, "tool_use", "toolu_bad", "broken"),
                new BackendEvent.InputJsonDelta(1, "{\"unterminated\": "),
                new BackendEvent.BlockStop(1),
                new BackendEvent.BlockStart(2, "tool_use", "toolu_none", "noargs"),
                new BackendEvent.BlockStop(2));

        assertThat(kinds(mapped)).containsExactly("tool_call", "tool_call", "tool_call");
        assertThat(mapped.get(0).data().path("input")).isEqualTo(json("{\"_raw\":\"[1,2]\"}"));
        assertThat(mapped.get(1).data().path("input")).isEqualTo(json("{\"_raw\":\"{\\\"unterminated\\\": \"}"));
        assertThat(mapped.get(2).data().path("input")).as("a tool without input gets an empty object")
                .isEqualTo(json("{}"));
    }

    @Test
    void textAndThinkingBlocksProduceNoToolCall() {
        List<Mapped> mapped = feed(
                new BackendEvent.BlockStart(0, "text", null, null),
                new BackendEvent.InputJsonDelta(0, "{\"stray\":true}"),
                new BackendEvent.BlockStop(0));

        assertThat(mapped).isEmpty();
    }

    @Test
    void mapsToolResultsPermissionRequestsAndStatus() {
        List<Mapped> mapped = feed(
                new BackendEvent.ToolResult("toolu_1", "\"file contents\"", false),
                new BackendEvent.ToolResult("toolu_2", "{\"lines\":[1,2]}", true),
                new BackendEvent.PermissionRequest("perm_1", "toolu_3", "run_command", "{\"command\":\"ls\"}"),
                new BackendEvent.Status("compacting", "history too long"),
                new BackendEvent.Status("idle", null));

        assertThat(kinds(mapped)).containsExactly("tool_result", "tool_result", "permission_request", "status",
                "status");
        assertThat(mapped.get(0).data()).isEqualTo(json(
                "{\"toolCallId\":\"toolu_1\",\"output\":\"file contents\",\"isError\":false}"));
        assertThat(mapped.get(1).data()).isEqualTo(json(
                "{\"toolCallId\":\"toolu_2\",\"output\":{\"lines\":[1,2]},\"isError\":true}"));
        assertThat(mapped.get(2).data()).isEqualTo(json(
                "{\"requestId\":\"perm_1\",\"toolCallId\":\"toolu_3\",\"name\":\"run_command\",\"input\":{\"command\":\"ls\"}}"));
        assertThat(mapped.get(3).data()).isEqualTo(json("{\"state\":\"compacting\",\"detail\":\"history too long\"}"));
        assertThat(mapped.get(4).data()).isEqualTo(json("{\"state\":\"idle\"}"));
    }

    @Test
    void mapsMessageDeltaUsageToUsageAndMessageStopToTurnCompletedWithTheLastStopReason() {
        List<Mapped> mapped = feed(
                new BackendEvent.MessageDelta("tool_use", null, null),
                new BackendEvent.MessageDelta("max_tokens", 12L, 34L),
                new BackendEvent.MessageDelta(null, null, 7L),
                new BackendEvent.MessageStop());

        assertThat(kinds(mapped)).as("a delta without usage emits nothing").containsExactly("usage", "usage",
                "turn_completed");
        assertThat(mapped.get(0).data()).isEqualTo(json("{\"inputTokens\":12,\"outputTokens\":34}"));
        assertThat(mapped.get(1).data()).isEqualTo(json("{\"inputTokens\":0,\"outputTokens\":7}"));
        assertThat(mapped.get(2).data()).as("a later delta without stop_reason keeps the last one")
                .isEqualTo(json("{\"stopReason\":\"max_tokens\"}"));
        assertThat(EventKind.fromWire(mapped.get(2).kind()).isTerminal()).isTrue();
    }

    @Test
    void turnCompletedDefaultsToEndTurn() {
        assertThat(feed(new BackendEvent.MessageStop()))
                .containsExactly(new Mapped("turn_completed", json("{\"stopReason\":\"end_turn\"}")));
    }

    @Test
    void mapsErrorToTurnFailedWithCodeAndMessage() {
        List<Mapped> mapped = feed(
                new BackendEvent.Error("overloaded", "the model is overloaded"),
                new BackendEvent.Error(null, null));

        assertThat(kinds(mapped)).containsExactly("turn_failed", "turn_failed");
        assertThat(mapped.get(0).data()).isEqualTo(json("{\"code\":\"overloaded\",\"message\":\"the model is overloaded\"}"));
        assertThat(mapped.get(1).data().path("code").asText()).isEqualTo("agent_error");
        assertThat(mapped.get(1).data().path("message").asText()).isNotBlank();
        assertThat(EventKind.TURN_FAILED.isTerminal()).isTrue();
    }

    @Test
    void unknownAndStructuralEventsProduceNothing() {
        List<Mapped> mapped = feed(
                new BackendEvent.Unknown("ping"),
                new BackendEvent.Unknown("content_block_whatever"),
                new BackendEvent.MessageStart(),
                new BackendEvent.BlockStart(0, "text", null, null),
                new BackendEvent.BlockStop(0),
                new BackendEvent.BlockStop(9),
                new BackendEvent.InputJsonDelta(5, "{}"));

        assertThat(mapped).isEmpty();
    }

    @Test
    void onlyTheThreeTerminalKindsAreTerminal() {
        assertThat(EventKind.TURN_COMPLETED.isTerminal()).isTrue();
        assertThat(EventKind.TURN_FAILED.isTerminal()).isTrue();
        assertThat(EventKind.TURN_CANCELLED.isTerminal()).isTrue();
        assertThat(EventKind.TURN_STARTED.isTerminal()).isFalse();
        assertThat(EventKind.USAGE.isTerminal()).isFalse();
        assertThat(EventKind.TEXT_DELTA.isTerminal()).isFalse();
    }
}

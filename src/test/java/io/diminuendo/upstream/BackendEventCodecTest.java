package io.diminuendo.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class BackendEventCodecTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static BackendEvent roundTrip(BackendEvent e) throws Exception {
        JsonNode frame = JSON.readTree(BackendEventCodec.encode("t1", e));
        assertThat(frame.path("turnId").asText()).isEqualTo("t1");
        return BackendEventCodec.decode(frame.path("event").asText(), frame.get("data"));
    }

    @Test
    void everyEventSurvivesEncodingAndDecoding() throws Exception {
        List<BackendEvent> events = List.of(
                new BackendEvent.MessageStart(),
                new BackendEvent.BlockStart(0, "text", null, null),
                new BackendEvent.BlockStart(1, "tool_use", "toolu_1", "read_file"),
                new BackendEvent.TextDelta(0, "héllo \"quoted\"\n"),
                new BackendEvent.ThinkingDelta(2, "hmm"),
                new BackendEvent.InputJsonDelta(1, "{\"pa"),
                new BackendEvent.BlockStop(1),
                new BackendEvent.ToolResult("toolu_1", "{\"lines\":[1,2]}", true),
                new BackendEvent.PermissionRequest("p1", "toolu_1", "run", "{\"cmd\":\"ls\"}"),
                new BackendEvent.Status("working", "reading files"),
                new BackendEvent.MessageDelta("end_turn", 10L, 20L),
                new BackendEvent.MessageStop(),
                new BackendEvent.Error("agent_error", "boom"));
        for (BackendEvent e : events) {
            assertThat(roundTrip(e)).isEqualTo(e);
        }
    }

    @Test
    void readsTheWireFormatOfWebsocketBackends() throws Exception {
        JsonNode data = JSON.readTree("{\"index\":3,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\":\"}}");
        assertThat(BackendEventCodec.decode("content_block_delta", data)).isEqualTo(new BackendEvent.InputJsonDelta(3, "{\"a\":"));
        JsonNode usage = JSON.readTree("{\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":7}}");
        assertThat(BackendEventCodec.decode("message_delta", usage)).isEqualTo(new BackendEvent.MessageDelta("tool_use", null, 7L));
    }

    @Test
    void unknownNamesBecomeUnknownAndBrokenPayloadsThrow() throws Exception {
        assertThat(BackendEventCodec.decode("ping_pong", null)).isEqualTo(new BackendEvent.Unknown("ping_pong"));
        assertThatThrownBy(() -> BackendEventCodec.decode("content_block_delta", JSON.readTree("{}")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("delta");
        assertThatThrownBy(() -> BackendEventCodec.decode("content_block_start", JSON.readTree("{\"content_block\":{\"type\":\"text\"}}")))
                .hasMessageContaining("index");
    }
}

package io.diminuendo.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

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

    @Test
    void decodeFrameReadsEveryEventAsTheTreeDecoderDoes() throws Exception {
        for (BackendEvent e : List.of(new BackendEvent.MessageStart(), new BackendEvent.BlockStart(1, "tool_use", "toolu_1", "x"),
                new BackendEvent.TextDelta(0, "héllo \"quoted\"\n"), new BackendEvent.ThinkingDelta(2, "hmm"),
                new BackendEvent.InputJsonDelta(1, "{\"pa"), new BackendEvent.MessageDelta("end_turn", 10L, 20L),
                new BackendEvent.ToolResult("toolu_1", "{\"lines\":[1,2]}", false), new BackendEvent.Error("agent_error", "boom"))) {
            assertThat(BackendEventCodec.decodeFrame(BackendEventCodec.encode("t1", e)))
                    .isEqualTo(new BackendEventCodec.Frame("t1", e));
        }
    }

    @Test
    void decodeFrameTakesTheFieldsInAnyOrderAndSkipsWhatItDoesNotKnow() throws Exception {
        assertThat(BackendEventCodec.decodeFrame("{\"data\":{\"delta\":{\"text\":\"hi\",\"x\":[1,{\"y\":2}],\"type\":\"text_delta\"},"
                + "\"index\":4},\"extra\":{\"event\":\"no\"},\"event\":\"content_block_delta\",\"turnId\":\"t9\"}"))
                .isEqualTo(new BackendEventCodec.Frame("t9", new BackendEvent.TextDelta(4, "hi")));
        assertThat(BackendEventCodec.decodeFrame("{\"turnId\":\"t\",\"event\":\"content_block_delta\",\"data\":"
                + "{\"index\":1,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"abc\"}}}"))
                .isEqualTo(new BackendEventCodec.Frame("t", new BackendEvent.Unknown("content_block_delta/signature_delta")));
        assertThatThrownBy(() -> BackendEventCodec.decodeFrame("[1]")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BackendEventCodec.decodeFrame("{\"turnId\":1,\"event\":\"message_stop\"}"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BackendEventCodec.decodeFrame("{\"turnId\":\"t\",\"event\":\"content_block_delta\",\"data\":"
                + "{\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":7}}}")).hasMessageContaining("text");
        assertThatThrownBy(() -> BackendEventCodec.decodeFrame("{\"turnId\":\"t\",\"event\":\"content_block_delta\",\"data\":"
                + "{\"index\":\"1\",\"delta\":{\"type\":\"text_delta\",\"text\":\"a\"}}}")).hasMessageContaining("index");
        assertThatThrownBy(() -> BackendEventCodec.decodeFrame("{\"turnId\":\"t\",\"event\":\"content_block_delta\",\"da"))
                .isInstanceOf(java.io.IOException.class);
    }

    /**
     * Frames made of valid and broken parts in random order, repeated fields included: the streaming decoder accepts
     * exactly what the tree decoder accepts, with the same event.
     */
    @Test
    void decodeFrameAgreesWithTheTreeDecoderOnRandomFrames() {
        Random random = new Random(20261202);
        String[] turnIds = { "\"t1\"", "5", "null", "{\"a\":1}" };
        String[] events = { "\"content_block_delta\"", "\"content_block_delta\"", "\"message_stop\"", "\"content_block_stop\"", "3" };
        String[] indexes = { "0", "3", "3.7", "\"3\"", "10000000000", "-1", "null", "[1]" };
        String[] types = { "\"text_delta\"", "\"thinking_delta\"", "\"input_json_delta\"", "\"other\"", "5" };
        String[] strings = { "\"a\\\"b\"", "\"\"", "7", "null", "{\"text\":\"x\"}" };
        String[] extras = { "[1,{\"text\":\"no\"}]", "{\"delta\":{\"type\":\"text_delta\"}}", "true" };
        int accepted = 0;
        for (int i = 0; i < 20_000; i++) {
            List<String> delta = new ArrayList<>();
            maybe(random, delta, "type", types);
            maybe(random, delta, "text", strings);
            maybe(random, delta, "thinking", strings);
            maybe(random, delta, "partial_json", strings);
            maybe(random, delta, "other", extras);
            List<String> data = new ArrayList<>();
            maybe(random, data, "index", indexes);
            if (random.nextInt(10) > 0) {
                data.add("\"delta\":" + (random.nextInt(8) > 0 ? object(random, delta) : "\"text\""));
            }
            maybe(random, data, "index", indexes);
            maybe(random, data, "extra", extras);
            List<String> frame = new ArrayList<>();
            maybe(random, frame, "turnId", turnIds);
            maybe(random, frame, "event", events);
            if (random.nextInt(10) > 0) {
                frame.add("\"data\":" + object(random, data));
            }
            maybe(random, frame, "extra", extras);
            if (random.nextInt(20) == 0) {
                maybe(random, frame, "event", events);
            }
            String text = object(random, frame);
            Object expected = treeDecoded(text);
            Object actual;
            try {
                actual = BackendEventCodec.decodeFrame(text);
            } catch (Exception e) {
                actual = "refused";
            }
            assertThat(actual).as(text).isEqualTo(expected);
            if (!"refused".equals(expected)) {
                accepted++;
            }
        }
        assertThat(accepted).as("frames the tree decoder accepted").isGreaterThan(500);
    }

    private static void maybe(Random random, List<String> fields, String name, String[] values) {
        if (random.nextInt(4) > 0) {
            fields.add("\"" + name + "\":" + values[random.nextInt(values.length)]);
        }
    }

    private static String object(Random random, List<String> fields) {
        List<String> shuffled = new ArrayList<>(fields);
        Collections.shuffle(shuffled, random);
        return "{" + String.join(",", shuffled) + "}";
    }

    /** The reference: the whole frame as a tree, then {@link BackendEventCodec#decode}. */
    private static Object treeDecoded(String text) {
        try {
            return BackendEventCodec.decodeTree(text);
        } catch (Exception e) {
            return "refused";
        }
    }
}

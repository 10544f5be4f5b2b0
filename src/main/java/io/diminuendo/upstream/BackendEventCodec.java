package io.diminuendo.upstream;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;

import io.diminuendo.protocol.Json;

/**
 * The wire form of backend events (docs/protocol.md, "`websocket` backends"): {@code {"turnId","event","data"}} frames. Used by the
 * WebSocket backend to read and by the standalone simulator to write.
 */
public final class BackendEventCodec {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DELTA = "content_block_delta";

    private BackendEventCodec() {
    }

    /** One decoded §3 frame: the turn it belongs to and its event. */
    public record Frame(String turnId, BackendEvent event) {
    }

    /**
     * Decodes a whole §3 frame, {@code {"turnId","event","data"}} with its fields in any order. A
     * {@code content_block_delta} (nearly every frame of a turn) is read straight from the parser's tokens when its
     * {@code event} comes before its {@code data}, as encoders write it; any other frame has its {@code data} read as a
     * tree and given to {@link #decode}. Either way the result and the rules are those of {@link #decode}.
     *
     * @throws IOException when the text is not JSON
     * @throws IllegalArgumentException when it is not a frame ({@code turnId} or {@code event} missing or not a
     *         string) or a part {@link #decode} requires is missing
     */
    public static Frame decodeFrame(String text) throws IOException {
        try (JsonParser p = JSON.createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("a frame is a JSON object");
            }
            String turnId = null;
            String event = null;
            JsonNode data = null;
            // the data of a delta read from the tokens: its event, or why it is refused
            BackendEvent delta = null;
            IllegalArgumentException refused = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "turnId" -> turnId = value == JsonToken.VALUE_STRING ? p.getText() : null;
                    case "event" -> {
                        String name = value == JsonToken.VALUE_STRING ? p.getText() : null;
                        if ((delta != null || refused != null) && !DELTA.equals(name)) {
                            // a repeated 'event' names another kind for the data already read: read it as a tree
                            return decodeTree(text);
                        }
                        event = name;
                    }
                    case "data" -> {
                        // a repeated field counts as its last occurrence, as in a tree
                        delta = null;
                        refused = null;
                        data = null;
                        if (DELTA.equals(event) && value == JsonToken.START_OBJECT) {
                            try {
                                delta = readDelta(p);
                            } catch (IllegalArgumentException e) {
                                refused = e;
                            }
                        } else {
                            data = JSON.readTree(p);
                        }
                    }
                    default -> p.skipChildren();
                }
            }
            if (turnId == null || event == null) {
                throw new IllegalArgumentException("frame without turnId or event");
            }
            if (refused != null) {
                throw refused;
            }
            return new Frame(turnId, delta != null ? delta : decode(event, data));
        }
    }

    /**
     * The whole frame read as a Jackson tree, then {@link #decode}: what {@link #decodeFrame} falls back to, and the
     * reading its token path must agree with.
     */
    static Frame decodeTree(String text) throws IOException {
        JsonNode frame = JSON.readTree(text);
        JsonNode turnId = frame.get("turnId");
        JsonNode event = frame.get("event");
        if (turnId == null || !turnId.isTextual() || event == null || !event.isTextual()) {
            throw new IllegalArgumentException("frame without turnId or event");
        }
        return new Frame(turnId.textValue(), decode(event.textValue(), frame.get("data")));
    }

    /**
     * The {@code data} of a {@code content_block_delta}, from its {@code START_OBJECT} to its end: the same event, or
     * the same refusal, as {@link #decode} gives for its tree. It only throws once the object is read to its end.
     */
    private static BackendEvent readDelta(JsonParser p) throws IOException {
        Integer index = null;
        boolean hasDelta = false;
        String type = null;
        String text = null;
        String thinking = null;
        String partialJson = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if ("index".equals(field)) {
                index = intValue(p, value);
            } else if ("delta".equals(field)) {
                // a repeated field counts as its last occurrence, as in a tree
                hasDelta = value == JsonToken.START_OBJECT;
                type = null;
                text = null;
                thinking = null;
                partialJson = null;
                if (!hasDelta) {
                    p.skipChildren();
                    continue;
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    String string = p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
                    p.skipChildren(); // an object or array where a string belongs, or a field not read
                    switch (name) {
                        case "type" -> type = string;
                        case "text" -> text = string;
                        case "thinking" -> thinking = string;
                        case "partial_json" -> partialJson = string;
                        default -> {
                        }
                    }
                }
            } else {
                p.skipChildren();
            }
        }
        if (!hasDelta) {
            throw new IllegalArgumentException("missing object 'delta'");
        }
        if (type == null) {
            throw new IllegalArgumentException("missing string 'type'");
        }
        String field = switch (type) {
            case "text_delta" -> "text";
            case "thinking_delta" -> "thinking";
            case "input_json_delta" -> "partial_json";
            default -> null;
        };
        if (field == null) {
            return new BackendEvent.Unknown(DELTA + "/" + type);
        }
        if (index == null) {
            throw new IllegalArgumentException("missing integer 'index'");
        }
        return switch (type) {
            case "text_delta" -> new BackendEvent.TextDelta(index, requiredText(text, field));
            case "thinking_delta" -> new BackendEvent.ThinkingDelta(index, requiredText(thinking, field));
            default -> new BackendEvent.InputJsonDelta(index, requiredText(partialJson, field));
        };
    }

    private static String requiredText(String value, String field) {
        if (value == null) {
            throw new IllegalArgumentException("missing string '" + field + "'");
        }
        return value;
    }

    /** A number that fits an int (a fraction is cut, as {@link JsonNode#intValue} does), else null. */
    private static Integer intValue(JsonParser p, JsonToken value) throws IOException {
        if (value == JsonToken.VALUE_NUMBER_INT) {
            return p.getNumberType() == JsonParser.NumberType.INT ? p.getIntValue() : null;
        }
        if (value == JsonToken.VALUE_NUMBER_FLOAT) {
            double d = p.getDoubleValue();
            return d >= Integer.MIN_VALUE && d <= Integer.MAX_VALUE ? (int) d : null;
        }
        p.skipChildren();
        return null;
    }

    /** Decodes one event; unknown names become {@link BackendEvent.Unknown}; missing required parts throw. */
    public static BackendEvent decode(String event, JsonNode data) {
        JsonNode d = data == null ? MissingNode.getInstance() : data;
        return switch (event) {
            case "message_start" -> new BackendEvent.MessageStart();
            case "content_block_start" -> {
                JsonNode block = required(d, "content_block");
                yield new BackendEvent.BlockStart(index(d), text(block, "type"), optionalText(block, "id"),
                        optionalText(block, "name"));
            }
            case "content_block_delta" -> {
                JsonNode delta = required(d, "delta");
                String type = text(delta, "type");
                yield switch (type) {
                    case "text_delta" -> new BackendEvent.TextDelta(index(d), text(delta, "text"));
                    case "thinking_delta" -> new BackendEvent.ThinkingDelta(index(d), text(delta, "thinking"));
                    case "input_json_delta" -> new BackendEvent.InputJsonDelta(index(d), text(delta, "partial_json"));
                    default -> new BackendEvent.Unknown("content_block_delta/" + type);
                };
            }
            case "content_block_stop" -> new BackendEvent.BlockStop(index(d));
            case "tool_result" -> new BackendEvent.ToolResult(text(d, "tool_use_id"),
                    d.has("content") ? d.get("content").toString() : "null", d.path("is_error").asBoolean(false));
            case "permission_request" -> new BackendEvent.PermissionRequest(text(d, "request_id"),
                    optionalText(d, "tool_use_id"), text(d, "name"), d.has("input") ? d.get("input").toString() : "{}");
            case "status" -> new BackendEvent.Status(text(d, "state"), optionalText(d, "detail"));
            case "message_delta" -> {
                JsonNode usage = d.path("usage");
                yield new BackendEvent.MessageDelta(optionalText(d.path("delta"), "stop_reason"),
                        usage.has("input_tokens") ? usage.get("input_tokens").asLong() : null,
                        usage.has("output_tokens") ? usage.get("output_tokens").asLong() : null);
            }
            case "message_stop" -> new BackendEvent.MessageStop();
            case "error" -> new BackendEvent.Error(optionalText(d, "code"), optionalText(d, "message"));
            default -> new BackendEvent.Unknown(event);
        };
    }

    /** Encodes one event of {@code turnId} as a §3 frame. */
    public static String encode(String turnId, BackendEvent event) {
        Encoder encoder = new Encoder(Json.obj().str("turnId", turnId));
        event.accept(encoder);
        return encoder.frame;
    }

    /** One method per event type: a new type does not compile until it says how it is written. */
    private static final class Encoder implements BackendEvent.Handler {
        private final Json.Obj head;
        String frame;

        Encoder(Json.Obj head) {
            this.head = head;
        }

        private void event(String name, String data) {
            frame = head.str("event", name).raw("data", data).end();
        }

        private void delta(int index, String delta) {
            event("content_block_delta", Json.obj().num("index", index).raw("delta", delta).end());
        }

        @Override
        public void messageStart(BackendEvent.MessageStart e) {
            event("message_start", "{}");
        }

        @Override
        public void blockStart(BackendEvent.BlockStart e) {
            String block = Json.obj().str("type", e.type()).strIfPresent("id", e.id()).strIfPresent("name", e.name()).end();
            event("content_block_start", Json.obj().num("index", e.index()).raw("content_block", block).end());
        }

        @Override
        public void textDelta(BackendEvent.TextDelta e) {
            delta(e.index(), Json.obj().str("type", "text_delta").str("text", e.text()).end());
        }

        @Override
        public void thinkingDelta(BackendEvent.ThinkingDelta e) {
            delta(e.index(), Json.obj().str("type", "thinking_delta").str("thinking", e.thinking()).end());
        }

        @Override
        public void inputJsonDelta(BackendEvent.InputJsonDelta e) {
            delta(e.index(), Json.obj().str("type", "input_json_delta").str("partial_json", e.partialJson()).end());
        }

        @Override
        public void blockStop(BackendEvent.BlockStop e) {
            event("content_block_stop", Json.obj().num("index", e.index()).end());
        }

        @Override
        public void toolResult(BackendEvent.ToolResult e) {
            event("tool_result", Json.obj().str("tool_use_id", e.toolUseId()).raw("content", e.contentJson())
                    .bool("is_error", e.isError()).end());
        }

        @Override
        public void permissionRequest(BackendEvent.PermissionRequest e) {
            event("permission_request", Json.obj().str("request_id", e.requestId()).str("tool_use_id", e.toolUseId())
                    .str("name", e.name()).raw("input", e.inputJson()).end());
        }

        @Override
        public void status(BackendEvent.Status e) {
            event("status", Json.obj().str("state", e.state()).strIfPresent("detail", e.detail()).end());
        }

        @Override
        public void messageDelta(BackendEvent.MessageDelta e) {
            Json.Obj usage = Json.obj();
            if (e.inputTokens() != null) {
                usage.num("input_tokens", e.inputTokens());
            }
            if (e.outputTokens() != null) {
                usage.num("output_tokens", e.outputTokens());
            }
            event("message_delta", Json.obj().raw("delta", Json.obj().str("stop_reason", e.stopReason()).end())
                    .raw("usage", usage.end()).end());
        }

        @Override
        public void messageStop(BackendEvent.MessageStop e) {
            event("message_stop", "{}");
        }

        @Override
        public void error(BackendEvent.Error e) {
            event("error", Json.obj().str("code", e.code()).str("message", e.message()).end());
        }

        @Override
        public void unknown(BackendEvent.Unknown e) {
            event(e.name(), "{}");
        }
    }

    private static JsonNode required(JsonNode d, String field) {
        JsonNode n = d.get(field);
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("missing object '" + field + "'");
        }
        return n;
    }

    private static int index(JsonNode d) {
        JsonNode n = d.get("index");
        if (n == null || !n.canConvertToInt()) {
            throw new IllegalArgumentException("missing integer 'index'");
        }
        return n.intValue();
    }

    private static String text(JsonNode d, String field) {
        JsonNode n = d.get(field);
        if (n == null || !n.isTextual()) {
            throw new IllegalArgumentException("missing string '" + field + "'");
        }
        return n.textValue();
    }

    private static String optionalText(JsonNode d, String field) {
        JsonNode n = d.get(field);
        return n == null || !n.isTextual() ? null : n.textValue();
    }
}

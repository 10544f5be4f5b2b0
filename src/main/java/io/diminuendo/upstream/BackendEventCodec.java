package io.diminuendo.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;

import io.diminuendo.protocol.Json;

/**
 * The wire form of backend events (docs/protocol.md, "`websocket` backends"): {@code {"turnId","event","data"}} frames. Used by the
 * WebSocket backend to read and by the standalone simulator to write.
 */
public final class BackendEventCodec {

    private BackendEventCodec() {
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
        Json.Obj frame = Json.obj().str("turnId", turnId);
        if (event instanceof BackendEvent.MessageStart) {
            return frame.str("event", "message_start").raw("data", "{}").end();
        } else if (event instanceof BackendEvent.BlockStart e) {
            String block = Json.obj().str("type", e.type()).strIfPresent("id", e.id()).strIfPresent("name", e.name()).end();
            return frame.str("event", "content_block_start")
                    .raw("data", Json.obj().num("index", e.index()).raw("content_block", block).end()).end();
        } else if (event instanceof BackendEvent.TextDelta e) {
            return delta(frame, e.index(), Json.obj().str("type", "text_delta").str("text", e.text()).end());
        } else if (event instanceof BackendEvent.ThinkingDelta e) {
            return delta(frame, e.index(), Json.obj().str("type", "thinking_delta").str("thinking", e.thinking()).end());
        } else if (event instanceof BackendEvent.InputJsonDelta e) {
            return delta(frame, e.index(),
                    Json.obj().str("type", "input_json_delta").str("partial_json", e.partialJson()).end());
        } else if (event instanceof BackendEvent.BlockStop e) {
            return frame.str("event", "content_block_stop").raw("data", Json.obj().num("index", e.index()).end()).end();
        } else if (event instanceof BackendEvent.ToolResult e) {
            return frame.str("event", "tool_result").raw("data", Json.obj().str("tool_use_id", e.toolUseId())
                    .raw("content", e.contentJson()).bool("is_error", e.isError()).end()).end();
        } else if (event instanceof BackendEvent.PermissionRequest e) {
            return frame.str("event", "permission_request").raw("data", Json.obj().str("request_id", e.requestId())
                    .str("tool_use_id", e.toolUseId()).str("name", e.name()).raw("input", e.inputJson()).end()).end();
        } else if (event instanceof BackendEvent.Status e) {
            return frame.str("event", "status")
                    .raw("data", Json.obj().str("state", e.state()).strIfPresent("detail", e.detail()).end()).end();
        } else if (event instanceof BackendEvent.MessageDelta e) {
            Json.Obj usage = Json.obj();
            if (e.inputTokens() != null) {
                usage.num("input_tokens", e.inputTokens());
            }
            if (e.outputTokens() != null) {
                usage.num("output_tokens", e.outputTokens());
            }
            return frame.str("event", "message_delta").raw("data", Json.obj()
                    .raw("delta", Json.obj().str("stop_reason", e.stopReason()).end()).raw("usage", usage.end()).end()).end();
        } else if (event instanceof BackendEvent.MessageStop) {
            return frame.str("event", "message_stop").raw("data", "{}").end();
        } else if (event instanceof BackendEvent.Error e) {
            return frame.str("event", "error")
                    .raw("data", Json.obj().str("code", e.code()).str("message", e.message()).end()).end();
        }
        return frame.str("event", ((BackendEvent.Unknown) event).name()).raw("data", "{}").end();
    }

    private static String delta(Json.Obj frame, int index, String delta) {
        return frame.str("event", "content_block_delta")
                .raw("data", Json.obj().num("index", index).raw("delta", delta).end()).end();
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

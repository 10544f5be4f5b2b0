package io.diminuendo.upstream;

import java.util.HashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.Json;

/**
 * Maps one turn's backend events (PROTOCOL.md §3) to client event kinds. Stateful per turn: tool input
 * fragments are joined per block index and emitted as one {@code tool_call} when the block stops, and the last
 * {@code stop_reason} is remembered for {@code turn_completed}. Not thread-safe; the turn serialises calls.
 */
public final class EventMapper {
    public static final String TURN_COMPLETED = "turn_completed";
    public static final String TURN_FAILED = "turn_failed";
    public static final String TURN_CANCELLED = "turn_cancelled";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Receives mapped client events: kind and its data object as JSON text. */
    public interface Output {
        void event(String kind, String dataJson);
    }

    private final GatewayMetrics metrics;
    private final Map<Integer, ToolBlock> toolBlocks = new HashMap<>(4);
    private String stopReason;

    private static final class ToolBlock {
        final String id;
        final String name;
        final StringBuilder input = new StringBuilder();

        ToolBlock(String id, String name) {
            this.id = id;
            this.name = name;
        }
    }

    public EventMapper(GatewayMetrics metrics) {
        this.metrics = metrics;
    }

    public static boolean isTerminal(String kind) {
        return TURN_COMPLETED.equals(kind) || TURN_FAILED.equals(kind) || TURN_CANCELLED.equals(kind);
    }

    public void map(BackendEvent event, Output out) {
        if (metrics != null) {
            metrics.eventsMapped.increment();
        }
        if (event instanceof BackendEvent.TextDelta e) {
            out.event("text_delta", textData(e.text()));
        } else if (event instanceof BackendEvent.ThinkingDelta e) {
            out.event("thinking_delta", textData(e.thinking()));
        } else if (event instanceof BackendEvent.InputJsonDelta e) {
            ToolBlock block = toolBlocks.get(e.index());
            if (block != null && e.partialJson() != null) {
                block.input.append(e.partialJson());
            }
        } else if (event instanceof BackendEvent.BlockStart e) {
            if ("tool_use".equals(e.type())) {
                toolBlocks.put(e.index(), new ToolBlock(e.id(), e.name()));
            }
        } else if (event instanceof BackendEvent.BlockStop e) {
            ToolBlock block = toolBlocks.remove(e.index());
            if (block != null) {
                out.event("tool_call", Json.obj().str("toolCallId", block.id).str("name", block.name)
                        .raw("input", objectOrWrapped(block.input.toString())).end());
            }
        } else if (event instanceof BackendEvent.ToolResult e) {
            out.event("tool_result", Json.obj().str("toolCallId", e.toolUseId())
                    .raw("output", e.contentJson() == null ? "null" : e.contentJson()).bool("isError", e.isError()).end());
        } else if (event instanceof BackendEvent.PermissionRequest e) {
            out.event("permission_request", Json.obj().str("requestId", e.requestId()).str("toolCallId", e.toolUseId())
                    .str("name", e.name()).raw("input", e.inputJson() == null ? "{}" : e.inputJson()).end());
        } else if (event instanceof BackendEvent.Status e) {
            out.event("status", Json.obj().str("state", e.state()).strIfPresent("detail", e.detail()).end());
        } else if (event instanceof BackendEvent.MessageDelta e) {
            if (e.stopReason() != null) {
                stopReason = e.stopReason();
            }
            if (e.inputTokens() != null || e.outputTokens() != null) {
                out.event("usage", Json.obj().num("inputTokens", e.inputTokens() == null ? 0 : e.inputTokens())
                        .num("outputTokens", e.outputTokens() == null ? 0 : e.outputTokens()).end());
            }
        } else if (event instanceof BackendEvent.MessageStop) {
            out.event(TURN_COMPLETED, Json.obj().str("stopReason", stopReason == null ? "end_turn" : stopReason).end());
        } else if (event instanceof BackendEvent.Error e) {
            out.event(TURN_FAILED, failure(e.code() == null ? "agent_error" : e.code(),
                    e.message() == null ? "the agent reported an error" : e.message()));
        } else if (event instanceof BackendEvent.Unknown && metrics != null) {
            metrics.unknownBackendEvents.increment();
        }
    }

    public static String textData(String text) {
        StringBuilder out = new StringBuilder(text.length() + 12).append("{\"text\":");
        return Json.string(out, text).append('}').toString();
    }

    public static String failure(String code, String message) {
        return Json.obj().str("code", code).str("message", message).end();
    }

    /** The joined tool input as a JSON object; input that is not an object is kept as {@code {"_raw": text}}. */
    private static String objectOrWrapped(String joined) {
        if (joined.isBlank()) {
            return "{}";
        }
        try {
            JsonNode node = JSON.readTree(joined);
            if (node != null && node.isObject()) {
                return node.toString();
            }
        } catch (Exception e) {
            // falls through to the wrapped form
        }
        return Json.obj().str("_raw", joined).end();
    }
}

package io.diminuendo.upstream;

import java.util.HashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.EventKind;
import io.diminuendo.protocol.Json;

/**
 * Maps one turn's backend events to client event kinds. Stateful per turn: tool input
 * fragments are joined per block index and emitted as one {@code tool_call} when the block stops, and the last
 * {@code stop_reason} is remembered for {@code turn_completed}. Not thread-safe; the turn serialises calls.
 */
public final class EventMapper {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Receives mapped client events: kind and its data object as JSON text. */
    public interface Output {
        void event(EventKind kind, String dataJson);
    }

    private final GatewayMetrics metrics;
    private final Map<Integer, ToolBlock> toolBlocks = new HashMap<>(4);
    private final Mapping handler = new Mapping();
    private Output out;
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

    public void map(BackendEvent event, Output out) {
        if (metrics != null) {
            metrics.eventsMapped.increment();
        }
        this.out = out;
        event.accept(handler);
    }

    /** What each backend event becomes; events that only carry state for a later one emit nothing. */
    private final class Mapping implements BackendEvent.Handler {
        @Override
        public void messageStart(BackendEvent.MessageStart e) {
        }

        @Override
        public void blockStart(BackendEvent.BlockStart e) {
            if ("tool_use".equals(e.type())) {
                toolBlocks.put(e.index(), new ToolBlock(e.id(), e.name()));
            }
        }

        @Override
        public void textDelta(BackendEvent.TextDelta e) {
            out.event(EventKind.TEXT_DELTA, textData(e.text()));
        }

        @Override
        public void thinkingDelta(BackendEvent.ThinkingDelta e) {
            out.event(EventKind.THINKING_DELTA, textData(e.thinking()));
        }

        @Override
        public void inputJsonDelta(BackendEvent.InputJsonDelta e) {
            ToolBlock block = toolBlocks.get(e.index());
            if (block != null && e.partialJson() != null) {
                block.input.append(e.partialJson());
            }
        }

        @Override
        public void blockStop(BackendEvent.BlockStop e) {
            ToolBlock block = toolBlocks.remove(e.index());
            if (block != null) {
                out.event(EventKind.TOOL_CALL, Json.obj().str("toolCallId", block.id).str("name", block.name)
                        .raw("input", objectOrWrapped(block.input.toString())).end());
            }
        }

        @Override
        public void toolResult(BackendEvent.ToolResult e) {
            out.event(EventKind.TOOL_RESULT, Json.obj().str("toolCallId", e.toolUseId())
                    .raw("output", e.contentJson() == null ? "null" : e.contentJson()).bool("isError", e.isError()).end());
        }

        @Override
        public void permissionRequest(BackendEvent.PermissionRequest e) {
            out.event(EventKind.PERMISSION_REQUEST, Json.obj().str("requestId", e.requestId())
                    .str("toolCallId", e.toolUseId()).str("name", e.name())
                    .raw("input", e.inputJson() == null ? "{}" : e.inputJson()).end());
        }

        @Override
        public void status(BackendEvent.Status e) {
            out.event(EventKind.STATUS, Json.obj().str("state", e.state()).strIfPresent("detail", e.detail()).end());
        }

        @Override
        public void messageDelta(BackendEvent.MessageDelta e) {
            if (e.stopReason() != null) {
                stopReason = e.stopReason();
            }
            if (e.inputTokens() != null || e.outputTokens() != null) {
                out.event(EventKind.USAGE, Json.obj().num("inputTokens", e.inputTokens() == null ? 0 : e.inputTokens())
                        .num("outputTokens", e.outputTokens() == null ? 0 : e.outputTokens()).end());
            }
        }

        @Override
        public void messageStop(BackendEvent.MessageStop e) {
            out.event(EventKind.TURN_COMPLETED,
                    Json.obj().str("stopReason", stopReason == null ? "end_turn" : stopReason).end());
        }

        @Override
        public void error(BackendEvent.Error e) {
            out.event(EventKind.TURN_FAILED, failure(e.code() == null ? "agent_error" : e.code(),
                    e.message() == null ? "the agent reported an error" : e.message()));
        }

        @Override
        public void unknown(BackendEvent.Unknown e) {
            if (metrics != null) {
                metrics.unknownBackendEvents.increment();
            }
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

package io.diminuendo.upstream;

/**
 * The agent backend's event vocabulary (PROTOCOL.md §3), decoded. JSON-valued fields ({@code contentJson},
 * {@code inputJson}) hold pre-encoded JSON text.
 */
public sealed interface BackendEvent {

    record MessageStart() implements BackendEvent {
    }

    /** {@code type} is {@code text}, {@code thinking} or {@code tool_use}; id and name are set for tool_use. */
    record BlockStart(int index, String type, String id, String name) implements BackendEvent {
    }

    record TextDelta(int index, String text) implements BackendEvent {
    }

    record ThinkingDelta(int index, String thinking) implements BackendEvent {
    }

    record InputJsonDelta(int index, String partialJson) implements BackendEvent {
    }

    record BlockStop(int index) implements BackendEvent {
    }

    record ToolResult(String toolUseId, String contentJson, boolean isError) implements BackendEvent {
    }

    record PermissionRequest(String requestId, String toolUseId, String name, String inputJson) implements BackendEvent {
    }

    record Status(String state, String detail) implements BackendEvent {
    }

    /** {@code stopReason} may be null; token counts are null when the delta carries no usage. */
    record MessageDelta(String stopReason, Long inputTokens, Long outputTokens) implements BackendEvent {
    }

    record MessageStop() implements BackendEvent {
    }

    record Error(String code, String message) implements BackendEvent {
    }

    /** An event name the gateway does not know; counted and skipped. */
    record Unknown(String name) implements BackendEvent {
    }
}

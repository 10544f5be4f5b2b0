package io.diminuendo.upstream;

/**
 * The agent backend's event vocabulary (docs/protocol.md, "3. Agent backend protocol"), decoded. JSON-valued fields ({@code contentJson},
 * {@code inputJson}) hold pre-encoded JSON text.
 */
public sealed interface BackendEvent {

    /** Hands this event to the handler's method for its type. */
    void accept(Handler handler);

    /** Whether the backend sends nothing more for the turn after this event ({@code message_stop} or {@code error}). */
    default boolean endsTurn() {
        return false;
    }

    /**
     * One method per event type, so that a new type does not compile until every handler says what it does
     * with it (the compiler's check of a sealed hierarchy, on Java 17).
     */
    interface Handler {
        void messageStart(MessageStart e);

        void blockStart(BlockStart e);

        void textDelta(TextDelta e);

        void thinkingDelta(ThinkingDelta e);

        void inputJsonDelta(InputJsonDelta e);

        void blockStop(BlockStop e);

        void toolResult(ToolResult e);

        void permissionRequest(PermissionRequest e);

        void status(Status e);

        void messageDelta(MessageDelta e);

        void messageStop(MessageStop e);

        void error(Error e);

        void unknown(Unknown e);
    }

    record MessageStart() implements BackendEvent {
    
        @Override
        public void accept(Handler handler) {
            handler.messageStart(this);
        }
    }

    /** {@code type} is {@code text}, {@code thinking} or {@code tool_use}; id and name are set for tool_use. */
    record BlockStart(int index, String type, String id, String name) implements BackendEvent {
    
        @Override
        public void accept(Handler handler) {
            handler.blockStart(this);
        }
    }

    record TextDelta(int index, String text) implements BackendEvent {
    
        @Override
        public void accept(Handler handler) {
            handler.textDelta(this);
        }
    }

    record ThinkingDelta(int index, String thinking) implements BackendEvent {
    
        @Override
        public void accept(Handler handler) {
            handler.thinkingDelta(this);
        }
    }

    record InputJsonDelta(int index, String partialJson) implements BackendEvent {
    
        @Override
        public void accept(Handler handler) {
            handler.inputJsonDelta(this);
        }
    }

    record BlockStop(int index) implements BackendEvent {
    
        @Override
        public void accept(Handler handler) {
            handler.blockStop(this);
        }
    }

    record ToolResult(String toolUseId, String contentJson, boolean isError) implements BackendEvent {
    
        @Override
        public void accept(Handler handler) {
            handler.toolResult(this);
        }
    }

    record PermissionRequest(String requestId, String toolUseId, String name, String inputJson) implements BackendEvent {
    
        @Override
        public void accept(Handler handler) {
            handler.permissionRequest(this);
        }
    }

    record Status(String state, String detail) implements BackendEvent {
    
        @Override
        public void accept(Handler handler) {
            handler.status(this);
        }
    }

    /** {@code stopReason} may be null; token counts are null when the delta carries no usage. */
    record MessageDelta(String stopReason, Long inputTokens, Long outputTokens) implements BackendEvent {
    
        @Override
        public void accept(Handler handler) {
            handler.messageDelta(this);
        }
    }

    record MessageStop() implements BackendEvent {

        @Override
        public boolean endsTurn() {
            return true;
        }

        @Override
        public void accept(Handler handler) {
            handler.messageStop(this);
        }
    }

    record Error(String code, String message) implements BackendEvent {

        @Override
        public boolean endsTurn() {
            return true;
        }

        @Override
        public void accept(Handler handler) {
            handler.error(this);
        }
    }

    /** An event name the gateway does not know; counted and skipped. */
    record Unknown(String name) implements BackendEvent {
    
        @Override
        public void accept(Handler handler) {
            handler.unknown(this);
        }
    }
}

package io.diminuendo.protocol;

/**
 * Why the gateway closes a WebSocket (docs/protocol.md, "Errors"): each constant is one situation, with the close code and
 * the reason text sent in the close frame. Several situations share a code; clients act on the code.
 */
public enum CloseCode {
    SHUTTING_DOWN(1001, "server shutting down"),
    IDLE_TIMEOUT(1001, "idle timeout"),
    PROTOCOL_ERROR(1002, "protocol error"),
    INVALID_UTF8(1007, "text frame is not valid UTF-8"),
    FRAME_TOO_LARGE(1009, "frame too large"),
    INTERNAL_ERROR(1011, "internal error"),
    SLOW_CONSUMER(4009, "slow consumer: outbound queue overflow, resubscribe with afterSeq"),
    UNAUTHORIZED(4401, "unauthorized"),
    TOKEN_EXPIRED(4401, "token expired"),
    AUTH_TIMEOUT(4408, "authentication timeout"),
    TOO_MANY_CONNECTIONS(4429, "too many connections"),
    TOO_MANY_FRAMES(4429, "too many frames");

    private final int code;
    private final String reason;

    CloseCode(int code, String reason) {
        this.code = code;
        this.reason = reason;
    }

    /** The WebSocket close code. */
    public int code() {
        return code;
    }

    /** The reason text of the close frame. */
    public String reason() {
        return reason;
    }
}

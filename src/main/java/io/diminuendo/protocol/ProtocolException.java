package io.diminuendo.protocol;

/** A request the gateway refuses; carries the protocol error code and a message that names the culprit. */
public class ProtocolException extends RuntimeException {
    private final ErrorCode code;
    private final long retryAfterMs;

    public ProtocolException(ErrorCode code, String message) {
        this(code, message, -1);
    }

    /** A refusal the client may retry after {@code retryAfterMs} (sent as the error's {@code retryAfterMs}). */
    public ProtocolException(ErrorCode code, String message, long retryAfterMs) {
        super(message, null, false, false);
        this.code = code;
        this.retryAfterMs = retryAfterMs;
    }

    public ErrorCode code() {
        return code;
    }

    /** When the client may retry, in milliseconds; -1 when retrying the same request will not help by itself. */
    public long retryAfterMs() {
        return retryAfterMs;
    }

    public static ProtocolException badRequest(String message) {
        return new ProtocolException(ErrorCode.BAD_REQUEST, message);
    }

    public static ProtocolException notFound(String what, String id) {
        return new ProtocolException(ErrorCode.NOT_FOUND, what + " " + id + " not found");
    }

    public static ProtocolException conflict(String message) {
        return new ProtocolException(ErrorCode.CONFLICT, message);
    }

    public static ProtocolException forbidden(String message) {
        return new ProtocolException(ErrorCode.FORBIDDEN, message);
    }

    public static ProtocolException unavailable(String message) {
        return new ProtocolException(ErrorCode.UNAVAILABLE, message);
    }
}

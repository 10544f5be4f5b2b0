package io.diminuendo.protocol;

/** Error codes of the client protocol (docs/protocol.md, "Errors"), with the HTTP status the REST API maps them to. */
public enum ErrorCode {
    BAD_REQUEST("bad_request", 400),
    UNKNOWN_TYPE("unknown_type", 400),
    UNAUTHORIZED("unauthorized", 401),
    FORBIDDEN("forbidden", 403),
    NOT_FOUND("not_found", 404),
    /** HTTP only: the path exists, the method does not. */
    METHOD_NOT_ALLOWED("method_not_allowed", 405),
    CONFLICT("conflict", 409),
    TOO_LARGE("too_large", 413),
    /** HTTP only: a request body that is not declared {@code application/json}. */
    UNSUPPORTED_MEDIA_TYPE("unsupported_media_type", 415),
    RATE_LIMITED("rate_limited", 429),
    UNAVAILABLE("unavailable", 503),
    INTERNAL("internal", 500);

    private final String wire;
    private final int httpStatus;

    ErrorCode(String wire, int httpStatus) {
        this.wire = wire;
        this.httpStatus = httpStatus;
    }

    public String wire() {
        return wire;
    }

    public int httpStatus() {
        return httpStatus;
    }
}

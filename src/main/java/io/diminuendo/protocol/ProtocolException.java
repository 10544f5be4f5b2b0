package io.diminuendo.protocol;

/** A request the gateway refuses; carries the protocol error code and a message that names the culprit. */
public class ProtocolException extends RuntimeException {
    private final ErrorCode code;

    public ProtocolException(ErrorCode code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
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

    /**
     * Maps any failure of a request to what the client is told: protocol errors keep their code; a store that
     * refused or failed a write is {@code unavailable}; anything else is {@code internal}.
     */
    public static ProtocolException from(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof ProtocolException p) {
            return p;
        }
        if (t instanceof io.diminuendo.store.EventStore.Overloaded) {
            return unavailable("the store is overloaded (write queue full); retry shortly");
        }
        if (t instanceof java.sql.SQLException || t instanceof io.diminuendo.store.EventStore.StoreFailure) {
            return unavailable("the store could not complete the write; retry shortly");
        }
        return new ProtocolException(ErrorCode.INTERNAL, "internal error");
    }
}

package io.diminuendo.session;

import java.sql.SQLException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.store.EventStore;
import io.diminuendo.store.SessionStore;

/** What a client is told when one of its requests fails, over WebSocket or REST. */
public final class ClientErrors {
    /** The retry hint when no read connection was free. */
    static final long READ_RETRY_MS = 1000;

    private ClientErrors() {
    }

    /**
     * Maps any failure of a request to a protocol error: protocol errors keep their code; an update of a session
     * deleted meanwhile is {@code not_found}; a store that refused or failed a write is {@code unavailable}; anything
     * else is {@code internal}.
     */
    public static ProtocolException from(Throwable failure) {
        Throwable t = unwrap(failure);
        if (t instanceof ProtocolException p) {
            return p;
        }
        if (t instanceof SessionStore.TenantFull f) {
            return tenantFull(f.tenantId(), f.limit());
        }
        if (t instanceof SessionStore.Missing m) {
            return ProtocolException.notFound("session", m.sessionId());
        }
        if (t instanceof EventStore.ReadBusy) {
            return new ProtocolException(ErrorCode.UNAVAILABLE, "the store's reads are busy; retry shortly", READ_RETRY_MS);
        }
        if (t instanceof EventStore.Overloaded) {
            return overloaded();
        }
        if (t instanceof SQLException || t instanceof EventStore.StoreFailure) {
            return ProtocolException.unavailable("the store could not complete the write; retry shortly");
        }
        return new ProtocolException(ErrorCode.INTERNAL, "internal error");
    }

    /** The failure inside the wrappers a completion stage puts around it. */
    static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** The tenant holds as many sessions as it may: nothing was created. */
    static ProtocolException tenantFull(String tenantId, int limit) {
        return new ProtocolException(ErrorCode.RATE_LIMITED, "tenant " + tenantId + " already has " + limit
                + " sessions; delete some first");
    }

    /** The store's write queue is full: nothing was changed, the client may retry. */
    static ProtocolException overloaded() {
        return ProtocolException.unavailable("the store is overloaded (write queue full); retry shortly");
    }
}

package io.diminuendo.api;

import java.util.concurrent.CompletionException;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.Json;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.session.ClientErrors;
import io.diminuendo.store.EventStore;

/** Maps every failure of a REST call to its HTTP status and a {@code {code, message}} body. */
public class ErrorMapper {
    private static final Logger LOG = Logger.getLogger(ErrorMapper.class);

    private final GatewayMetrics metrics;

    public ErrorMapper(GatewayMetrics metrics) {
        this.metrics = metrics;
    }

    @ServerExceptionMapper({ ProtocolException.class, CompletionException.class, EventStore.Overloaded.class,
            EventStore.StoreFailure.class })
    public Response map(Exception failure) {
        ProtocolException p = ClientErrors.from(failure);
        if (p.code() == ErrorCode.INTERNAL) {
            LOG.error("request failed", failure);
        }
        metrics.error(p.code());
        Json.Obj body = Json.obj().str("code", p.code().wire()).str("message", p.getMessage());
        Response.ResponseBuilder response = Response.status(p.code().httpStatus()).type(MediaType.APPLICATION_JSON);
        if (p.retryAfterMs() >= 0) {
            body.num("retryAfterMs", p.retryAfterMs());
            response.header("Retry-After", Math.max(1, (p.retryAfterMs() + 999) / 1000));
        }
        return response.entity(body.end()).build();
    }

    /**
     * What Quarkus REST itself refuses (no such method for the path, a body it cannot read, …): the same status, with
     * a {@code {code, message}} body instead of an empty one.
     */
    @ServerExceptionMapper(WebApplicationException.class)
    public Response mapHttp(WebApplicationException failure) {
        int status = failure.getResponse().getStatus();
        ErrorCode code = HttpErrors.codeFor(status);
        metrics.error(code);
        return Response.status(status).type(MediaType.APPLICATION_JSON)
                .entity(HttpErrors.body(code, HttpErrors.messageFor(status))).build();
    }
}

package io.diminuendo.api;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.jboss.logging.Logger;

import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.Json;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * JSON error bodies for what the HTTP router refuses before any resource runs (no route for the path, a method the
 * route does not take, a body over the limit): {@code {code, message}} like every other error, never an empty or
 * HTML page.
 */
@ApplicationScoped
public class HttpErrors {
    private static final Logger LOG = Logger.getLogger(HttpErrors.class);
    private static final int[] STATUSES = {400, 404, 405, 406, 413, 414, 415, 431, 501};

    void register(@Observes Router router) {
        for (int status : STATUSES) {
            router.errorHandler(status, HttpErrors::answer);
        }
        // a request the router cannot even route (HTTP/1.1 without Host) is the client's fault: answered 400 here
        // and logged at DEBUG, instead of reaching the default handler that logs an ERROR with a stack trace
        router.route().order(Integer.MIN_VALUE).failureHandler(ctx -> {
            Throwable failure = ctx.failure();
            if (failure != null && !ctx.response().headWritten() && isMalformedRequest(failure)) {
                LOG.debugf("refused a malformed request: %s", failure.getMessage());
                ctx.response().setStatusCode(400).putHeader("content-type", "application/json")
                        .putHeader("connection", "close").end(body(ErrorCode.BAD_REQUEST, failure.getMessage()));
            } else {
                ctx.next();
            }
        });
    }

    private static boolean isMalformedRequest(Throwable failure) {
        String message = failure.getMessage();
        return message != null && message.contains("'Host' header is required");
    }

    private static void answer(RoutingContext ctx) {
        if (ctx.response().headWritten()) {
            return;
        }
        int status = ctx.statusCode();
        ctx.response().setStatusCode(status).putHeader("content-type", "application/json")
                .end(body(codeFor(status), messageFor(status)));
    }

    /** Answers 405 {@code method_not_allowed} with an {@code Allow} header, for routes that take only some methods. */
    public static void refuseMethod(RoutingContext ctx, String allow, String message) {
        ctx.response().setStatusCode(405).putHeader("allow", allow).putHeader("content-type", "application/json")
                .end(body(ErrorCode.METHOD_NOT_ALLOWED, message));
    }

    static String body(ErrorCode code, String message) {
        return Json.obj().str("code", code.wire()).str("message", message).end();
    }

    /** The protocol's code for an HTTP status the router or Quarkus REST produced. */
    static ErrorCode codeFor(int status) {
        switch (status) {
            case 401:
                return ErrorCode.UNAUTHORIZED;
            case 403:
                return ErrorCode.FORBIDDEN;
            case 404:
                return ErrorCode.NOT_FOUND;
            case 405:
                return ErrorCode.METHOD_NOT_ALLOWED;
            case 409:
                return ErrorCode.CONFLICT;
            case 413:
            case 414:
            case 431:
                return ErrorCode.TOO_LARGE;
            case 415:
                return ErrorCode.UNSUPPORTED_MEDIA_TYPE;
            case 429:
                return ErrorCode.RATE_LIMITED;
            case 503:
                return ErrorCode.UNAVAILABLE;
            default:
                return status >= 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_REQUEST;
        }
    }

    static String messageFor(int status) {
        switch (status) {
            case 404:
                return "no such resource; the REST API is under /api/sessions (docs/protocol.md, \"2. HTTP\")";
            case 405:
                return "this resource does not take that method";
            case 406:
                return "this resource only answers application/json";
            case 413:
                return "the request body is too large";
            case 414:
                return "the request URI is too long";
            case 415:
                return "the body must be JSON, sent with Content-Type: application/json";
            case 431:
                return "the request headers are too large";
            default:
                return status >= 500 ? "internal error" : "the request could not be read";
        }
    }
}

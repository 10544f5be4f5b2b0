package io.diminuendo.agui;

import java.util.Set;
import java.util.concurrent.Executor;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.session.ClientErrors;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code POST /api/agui} and {@code POST /api/agui/{backend}}: plain Vert.x routes, so the answer can be a stream
 * written at the client's pace. On the event loop this class only checks the origin (CORS, with the preflight) and
 * reads the body up to {@code diminuendo.agui.max-body-bytes}; the run is settled on a worker thread by
 * {@link AguiRuns} and streamed by {@link RunStream}.
 */
@ApplicationScoped
public class AguiRoute {
    static final String PATH = "/api/agui";
    static final String ALLOWED_HEADERS = "Authorization, Content-Type";
    static final String ALLOWED_METHODS = "POST, OPTIONS";
    /** How long a browser may keep a preflight answer, in seconds. */
    static final String PREFLIGHT_MAX_AGE = "600";

    private final AguiRuns runs;
    private final GatewayMetrics metrics;
    private final Set<String> allowedOrigins;
    private final int maxBodyBytes;
    private final Executor workers = Infrastructure.getDefaultWorkerPool();

    public AguiRoute(AguiRuns runs, GatewayMetrics metrics, GatewayConfig config) {
        this.runs = runs;
        this.metrics = metrics;
        this.allowedOrigins = config.security().allowedOrigins().map(Set::copyOf).orElse(null);
        this.maxBodyBytes = config.agui().maxBodyBytes();
    }

    void register(@Observes Router router) {
        router.route(PATH).handler(this::handle);
        router.route(PATH + "/:backend").handler(this::handle);
    }

    private void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        HttpServerResponse response = ctx.response();
        String origin = request.getHeader(HttpHeaders.ORIGIN);
        if (origin != null && allowedOrigins != null && !allowedOrigins.contains(origin)) {
            metrics.limitHit("origin");
            refuse(response, null, ProtocolException.forbidden("origin " + origin
                    + " may not call this endpoint (diminuendo.security.allowed-origins)"));
            return;
        }
        if (request.method() == HttpMethod.OPTIONS) {
            RunStream.cors(response, origin);
            response.setStatusCode(204).putHeader("Access-Control-Allow-Methods", ALLOWED_METHODS)
                    .putHeader("Access-Control-Allow-Headers", ALLOWED_HEADERS)
                    .putHeader("Access-Control-Max-Age", PREFLIGHT_MAX_AGE).end();
            return;
        }
        if (request.method() != HttpMethod.POST) {
            response.putHeader("Allow", ALLOWED_METHODS);
            refuse(response, origin, new ProtocolException(ErrorCode.METHOD_NOT_ALLOWED, "use POST (or OPTIONS)"));
            return;
        }
        String declared = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (declared != null && isLongerThan(declared, maxBodyBytes)) {
            tooLarge(response, origin);
            return;
        }
        AguiRuns.Run run = runs.open(request, origin);
        Context context = ctx.vertx().getOrCreateContext();
        // the body waits while the caller is authenticated (a JWT may wait for its provider's keys)
        request.pause();
        run.authenticate(request.getHeader(HttpHeaders.AUTHORIZATION)).whenComplete((ok, failure) -> context
                .runOnContext(v -> {
                    if (failure != null) {
                        refuseUnread(response, origin, ClientErrors.from(failure));
                    } else if (!isJson(request.getHeader(HttpHeaders.CONTENT_TYPE))) {
                        refuseUnread(response, origin, new ProtocolException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                                "the body must be JSON, sent with Content-Type: application/json"));
                    } else {
                        read(request, response, origin, run, ctx.pathParam("backend"));
                    }
                }));
    }

    /** Reads the body up to its limit, then settles the run on a worker thread. */
    private void read(HttpServerRequest request, HttpServerResponse response, String origin, AguiRuns.Run run,
            String backend) {
        Buffer body = Buffer.buffer();
        boolean[] refused = new boolean[1];
        request.handler(chunk -> {
            if (refused[0]) {
                return;
            }
            if (body.length() + chunk.length() > maxBodyBytes) {
                refused[0] = true;
                tooLarge(response, origin);
                return;
            }
            body.appendBuffer(chunk);
        });
        request.endHandler(v -> {
            if (!refused[0]) {
                workers.execute(() -> run.execute(backend, body));
            }
        });
        request.resume();
    }

    /** Refuses a request whose body was not read: the connection goes after the answer. */
    private void refuseUnread(HttpServerResponse response, String origin, ProtocolException error) {
        if (!response.ended()) {
            response.putHeader(HttpHeaders.CONNECTION, "close");
            refuse(response, origin, error);
        }
    }

    /** {@code application/json}, with any parameters. */
    static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        int semicolon = contentType.indexOf(';');
        String type = semicolon < 0 ? contentType : contentType.substring(0, semicolon);
        return type.trim().equalsIgnoreCase("application/json");
    }

    /** 413 before the body is read to its end; the connection is closed after the answer (the rest is not read). */
    private void tooLarge(HttpServerResponse response, String origin) {
        response.putHeader(HttpHeaders.CONNECTION, "close");
        refuse(response, origin, new ProtocolException(ErrorCode.TOO_LARGE,
                "the body exceeds " + maxBodyBytes + " bytes (diminuendo.agui.max-body-bytes)"));
    }

    private void refuse(HttpServerResponse response, String origin, ProtocolException error) {
        metrics.error(error.code());
        RunStream.respondError(response, origin, error);
    }

    private static boolean isLongerThan(String contentLength, long max) {
        try {
            return Long.parseLong(contentLength.trim()) > max;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}

package io.diminuendo.agui;

import java.util.Set;
import java.util.concurrent.Executor;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.ProtocolException;
import io.smallrye.mutiny.infrastructure.Infrastructure;
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
            metrics.error(ErrorCode.BAD_REQUEST);
            response.setStatusCode(405).putHeader("Content-Type", "application/json");
            RunStream.cors(response, origin);
            response.end("{\"code\":\"bad_request\",\"message\":\"use POST\"}");
            return;
        }
        String declared = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (declared != null && isLongerThan(declared, maxBodyBytes)) {
            tooLarge(response, origin);
            return;
        }
        AguiRuns.Run run = runs.open(request, origin);
        try {
            run.authenticate(request.getHeader(HttpHeaders.AUTHORIZATION));
        } catch (ProtocolException e) {
            // the body is not read: the connection goes after the answer
            response.putHeader(HttpHeaders.CONNECTION, "close");
            refuse(response, origin, e);
            return;
        }
        String backend = ctx.pathParam("backend");
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

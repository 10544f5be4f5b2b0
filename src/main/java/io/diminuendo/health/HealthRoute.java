package io.diminuendo.health;

import java.util.Locale;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.diminuendo.api.HttpErrors;
import io.diminuendo.cluster.Broker;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.protocol.Json;
import io.diminuendo.store.StoreHealth;
import io.diminuendo.upstream.AgentBackend;
import io.diminuendo.upstream.Backends;
import io.quarkus.vertx.http.runtime.RouteConstants;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;

/**
 * {@code GET /health}: a plain Vert.x route on the event loop, answered from live state only (backend status
 * kept up to date by the backends themselves, the writer's health flags); no database, no network call.
 */
@ApplicationScoped
public class HealthRoute {
    /**
     * Ahead of every other route but Quarkus's own first handlers: the router tries routes in order, and the REST
     * layer's route, which matches every path, would otherwise look for a resource on each probe first.
     */
    private static final int FIRST = RouteConstants.ROUTE_ORDER_BODY_HANDLER + 1;
    private static final CharSequence APPLICATION_JSON = HttpHeaders.createOptimized("application/json");
    private static final CharSequence NO_STORE = HttpHeaders.createOptimized("no-store");
    private final Backends backends;
    private final StoreHealth store;
    private final String version;
    private final Broker broker;
    private final String storeKind;
    private volatile Snapshot snapshot;

    public HealthRoute(Backends backends, StoreHealth store, Broker broker, GatewayConfig config,
            @ConfigProperty(name = "quarkus.application.version", defaultValue = "dev") String version) {
        this.backends = backends;
        this.store = store;
        this.broker = broker;
        this.storeKind = config.store().kind().name().toLowerCase(Locale.ROOT);
        this.version = Json.quote(version);
    }

    void register(@Observes Router router) {
        router.get("/health").order(FIRST).handler(ctx -> ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON)
                .putHeader(HttpHeaders.CACHE_CONTROL, NO_STORE)
                .end(currentBody()));
        router.route("/health").order(FIRST + 1)
                .handler(ctx -> HttpErrors.refuseMethod(ctx, "GET", "/health only answers GET"));
    }

    /**
     * The body, built at most once per millisecond: under a stream of probes the same answer serves every request of
     * that millisecond (its {@code ageMs} figures have that resolution anyway).
     */
    private Buffer currentBody() {
        long now = System.currentTimeMillis();
        Snapshot last = snapshot;
        if (last != null && last.millis() == now) {
            return last.body();
        }
        // a Vert.x buffer can be written any number of times: each write takes its own slice of the bytes
        Buffer body = Buffer.buffer(body(now));
        snapshot = new Snapshot(now, body);
        return body;
    }

    private record Snapshot(long millis, Buffer body) {
    }

    private String body(long now) {
        boolean ok = store.writerHealthy() && broker.connected();
        StringBuilder upstreams = new StringBuilder(96).append('{');
        boolean first = true;
        for (AgentBackend b : backends.all()) {
            if (!first) {
                upstreams.append(',');
            }
            first = false;
            // only the default backend decides: a session on another one that is down fails its own turns, and says so
            // in upstreams, but the gateway serves everyone else
            ok &= b.isUp() || b != backends.defaultBackend();
            Json.string(upstreams, b.name()).append(':');
            long checkedAt = b.checkedAt();
            Json.Obj o = Json.obj().str("status", b.isUp() ? "up" : "down").raw("latencyMs", format(b.latencyMs()))
                    .num("checkedAt", checkedAt);
            upstreams.append((checkedAt > 0 ? o.num("ageMs", Math.max(0, now - checkedAt)) : o).end());
        }
        upstreams.append('}');
        return Json.obj().str("status", ok ? "ok" : "degraded").raw("upstreams", upstreams.toString())
                .raw("store", Json.obj().str("kind", storeKind).str("status", store.writerHealthy() ? "up" : "down")
                        .num("queueDepth", store.queueDepth()).end())
                .raw("bus", Json.obj().str("kind", broker.clustered() ? "nats" : "local")
                        .str("status", broker.connected() ? "up" : "down").str("pod", broker.pod()).end())
                .raw("version", version).end();
    }

    private static String format(double ms) {
        return ms < 0 ? "null" : Double.toString(Math.round(ms * 1000) / 1000.0);
    }
}

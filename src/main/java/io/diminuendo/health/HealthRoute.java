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
import io.vertx.ext.web.Router;

/**
 * {@code GET /health}: a plain Vert.x route on the event loop, answered from live state only (backend status
 * kept up to date by the backends themselves, the writer's health flags); no database, no network call.
 */
@ApplicationScoped
public class HealthRoute {
    private final Backends backends;
    private final StoreHealth store;
    private final String version;
    private final Broker broker;
    private final String storeKind;

    public HealthRoute(Backends backends, StoreHealth store, Broker broker, GatewayConfig config,
            @ConfigProperty(name = "quarkus.application.version", defaultValue = "dev") String version) {
        this.backends = backends;
        this.store = store;
        this.broker = broker;
        this.storeKind = config.store().kind().name().toLowerCase(Locale.ROOT);
        this.version = Json.quote(version);
    }

    void register(@Observes Router router) {
        router.get("/health").handler(ctx -> ctx.response()
                .putHeader("content-type", "application/json")
                .putHeader("cache-control", "no-store")
                .end(body()));
        router.route("/health").handler(ctx -> HttpErrors.refuseMethod(ctx, "GET", "/health only answers GET"));
    }

    String body() {
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
            upstreams.append((checkedAt > 0 ? o.num("ageMs", Math.max(0, System.currentTimeMillis() - checkedAt)) : o).end());
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

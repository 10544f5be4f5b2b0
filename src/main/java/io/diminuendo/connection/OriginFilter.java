package io.diminuendo.connection;

import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.quarkus.vertx.http.runtime.filters.Filters;

/**
 * Refuses WebSocket upgrades on {@code /ws} from browser origins not in {@code diminuendo.security.allowed-origins}
 * (HTTP 403, before any WebSocket exists). Requests without {@code Origin} — non-browser clients — pass.
 */
@ApplicationScoped
public class OriginFilter {
    private final Set<String> allowed;
    private final GatewayMetrics metrics;

    public OriginFilter(GatewayConfig config, GatewayMetrics metrics) {
        this.allowed = config.security().allowedOrigins().map(Set::copyOf).orElse(null);
        this.metrics = metrics;
    }

    void register(@Observes Filters filters) {
        if (allowed == null) {
            return;
        }
        filters.register(rc -> {
            String origin = rc.request().getHeader("Origin");
            if (origin != null && "/ws".equals(rc.normalizedPath()) && !allowed.contains(origin)) {
                metrics.limitHit("origin");
                rc.response().setStatusCode(403).putHeader("content-type", "application/json")
                        .end("{\"code\":\"forbidden\",\"message\":\"origin not allowed\"}");
                return;
            }
            rc.next();
        }, 100);
    }
}

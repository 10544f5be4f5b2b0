package io.diminuendo.connection;

import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.quarkus.websockets.next.HttpUpgradeCheck;
import io.smallrye.mutiny.Uni;

/**
 * Refuses WebSocket upgrades on {@code /ws} from browser origins not in {@code diminuendo.security.allowed-origins}
 * (HTTP 403, before any WebSocket exists). Requests without {@code Origin} — non-browser clients — pass, and so
 * does every origin while the property is unset.
 */
@ApplicationScoped
public class OriginCheck implements HttpUpgradeCheck {
    private final Set<String> allowed;
    private final GatewayMetrics metrics;

    public OriginCheck(GatewayConfig config, GatewayMetrics metrics) {
        this.allowed = config.security().allowedOrigins().map(Set::copyOf).orElse(null);
        this.metrics = metrics;
    }

    @Override
    public boolean appliesTo(String endpointId) {
        return GatewayEndpoint.class.getName().equals(endpointId);
    }

    @Override
    public Uni<CheckResult> perform(HttpUpgradeContext context) {
        String origin = context.httpRequest().getHeader("Origin");
        if (allowed == null || origin == null || allowed.contains(origin)) {
            return CheckResult.permitUpgrade();
        }
        metrics.limitHit("origin");
        return CheckResult.rejectUpgrade(403);
    }
}

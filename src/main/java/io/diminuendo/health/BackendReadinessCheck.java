package io.diminuendo.health;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.upstream.AgentBackend;
import io.diminuendo.upstream.Backends;

/**
 * Reports every backend's state; down only when {@code diminuendo.health.require-default-backend} is set and
 * the default backend is down (a pod without its agent then leaves the load balancer).
 */
@Readiness
@ApplicationScoped
public class BackendReadinessCheck implements HealthCheck {
    private final Backends backends;
    private final boolean requireDefault;

    public BackendReadinessCheck(Backends backends, GatewayConfig config) {
        this.backends = backends;
        this.requireDefault = config.health().requireDefaultBackend();
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder r = HealthCheckResponse.named("backends");
        for (AgentBackend b : backends.all()) {
            r.withData(b.name(), b.isUp() ? "up" : "down");
        }
        return r.status(!requireDefault || backends.defaultBackend().isUp()).build();
    }
}

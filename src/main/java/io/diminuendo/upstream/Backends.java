package io.diminuendo.upstream;

import java.util.Collection;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.diminuendo.metrics.GatewayMetrics;
import io.quarkus.runtime.Startup;

/**
 * The configured agent backends by name; today the built-in simulator, which is also the default. Created at
 * start-up so that {@code diminuendo_backend_up} is exported before the first turn.
 */
@Startup
@ApplicationScoped
public class Backends {
    private final List<AgentBackend> all;

    public Backends(SimulatedAgent simulated, GatewayMetrics metrics) {
        this.all = List.of(simulated);
        for (AgentBackend b : all) {
            metrics.gauge("diminuendo.backend.up", "1 when the backend accepts new turns, else 0", "backend", b.name(),
                    () -> b.isUp() ? 1 : 0);
        }
    }

    public AgentBackend defaultBackend() {
        return all.get(0);
    }

    public Collection<AgentBackend> all() {
        return all;
    }
}

package io.diminuendo.upstream;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;

/**
 * The configured agent backends by name ({@code diminuendo.backends.<name>}). The built-in simulator is always
 * there as {@code simulated}; {@code diminuendo.default-backend} names the one new sessions use.
 */
@ApplicationScoped
public class Backends {
    private final Map<String, AgentBackend> byName = new LinkedHashMap<>();
    private final AgentBackend defaultBackend;

    public Backends(SimulatedAgent simulated, GatewayConfig config, Vertx vertx, GatewayMetrics metrics) {
        byName.put(SimulatedAgent.NAME, simulated);
        config.backends().forEach((name, b) -> byName.put(name, switch (b.kind()) {
            case SIMULATED -> simulated;
            case WEBSOCKET -> new WebSocketBackend(name, b, vertx, metrics);
            case OPENAI -> new OpenAiBackend(name, b, vertx, metrics);
        }));
        this.defaultBackend = byName.get(config.defaultBackend());
        if (defaultBackend == null) {
            throw new IllegalStateException("diminuendo.default-backend names no configured backend: "
                    + config.defaultBackend() + " (configured: " + byName.keySet() + ")");
        }
        byName.forEach((name, b) -> metrics.gauge("diminuendo.backend.up", "1 while the backend accepts turns",
                () -> b.isUp() ? 1 : 0, "backend", name));
    }

    public AgentBackend defaultBackend() {
        return defaultBackend;
    }

    /** The backend called {@code name}, or null. */
    public AgentBackend get(String name) {
        return byName.get(name);
    }

    public Collection<AgentBackend> all() {
        return byName.values();
    }

    /** Starts background work (connections, heartbeats) of network backends once the application is up. */
    void start(@Observes @Priority(30) StartupEvent event) {
        byName.values().forEach(b -> {
            if (b instanceof Startable s) {
                s.start();
            }
        });
    }

    public void close() {
        byName.values().forEach(AgentBackend::close);
    }

    /** A backend with background work to start once the application is up. */
    public interface Startable {
        void start();
    }
}

package io.diminuendo.upstream;

import java.util.Collection;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

/** The configured agent backends by name; today the built-in simulator, which is also the default. */
@ApplicationScoped
public class Backends {
    private final List<AgentBackend> all;

    public Backends(SimulatedAgent simulated) {
        this.all = List.of(simulated);
    }

    public AgentBackend defaultBackend() {
        return all.get(0);
    }

    public Collection<AgentBackend> all() {
        return all;
    }
}

package io.diminuendo.health;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

import io.diminuendo.store.StoreHealth;

/** Live while the process can still persist: the writer thread runs and no batch is stuck. */
@Liveness
@ApplicationScoped
public class WriterLivenessCheck implements HealthCheck {
    private final StoreHealth store;

    public WriterLivenessCheck(StoreHealth store) {
        this.store = store;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("writer").status(store.writerAlive())
                .withData("queueDepth", store.queueDepth()).build();
    }
}

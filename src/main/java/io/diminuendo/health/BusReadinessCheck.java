package io.diminuendo.health;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import io.diminuendo.cluster.Broker;

/** Ready only while the bus to the other pods is connected (always, with the local bus of a single pod). */
@Readiness
@ApplicationScoped
public class BusReadinessCheck implements HealthCheck {
    private final Broker broker;

    public BusReadinessCheck(Broker broker) {
        this.broker = broker;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("bus").status(broker.connected())
                .withData("kind", broker.clustered() ? "nats" : "local").withData("pod", broker.pod()).build();
    }
}

package io.diminuendo.cluster;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.store.Stores;

/** Picks the broker named by {@code diminuendo.bus.kind}; it is started by whoever hands it its handlers. */
@ApplicationScoped
public class Brokers {
    private final Broker broker;

    public Brokers(GatewayConfig config, GatewayMetrics metrics, Stores stores) {
        GatewayConfig.Bus bus = config.bus();
        this.broker = switch (bus.kind()) {
            case LOCAL -> new LocalBroker(stores.podName());
            // a missing URL is reported by ConfigValidator before anything connects
            case NATS -> new NatsBroker(bus.url().orElse(""), bus.subjectPrefix(), stores.podName(), metrics);
        };
    }

    @Produces
    @Singleton
    Broker broker() {
        return broker;
    }

    @PreDestroy
    void stop() {
        broker.stop();
    }
}

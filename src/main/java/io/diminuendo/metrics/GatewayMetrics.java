package io.diminuendo.metrics;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import jakarta.inject.Singleton;

import io.diminuendo.protocol.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** The gateway's own meters, served at {@code /q/metrics}; the catalogue is in docs/operations.md. */
@Singleton
public class GatewayMetrics {
    private final MeterRegistry registry;
    public final Counter eventsMapped;
    public final Counter eventsPublished;
    public final Counter eventsPersisted;
    public final Counter unknownBackendEvents;
    public final Counter slowConsumerCloses;
    public final Counter writerRejections;
    public final Counter writerFailures;
    public final DistributionSummary batchSize;
    public final Timer commitLatency;
    private final Map<ErrorCode, Counter> errors = new EnumMap<>(ErrorCode.class);

    public GatewayMetrics(MeterRegistry registry) {
        this.registry = registry;
        eventsMapped = Counter.builder("diminuendo.events.mapped").description("Backend events mapped to client events").register(registry);
        eventsPublished = Counter.builder("diminuendo.events.published").description("Session events sequenced and fanned out").register(registry);
        eventsPersisted = Counter.builder("diminuendo.events.persisted").description("Session events committed to the store").register(registry);
        unknownBackendEvents = Counter.builder("diminuendo.backend.events.unknown").description("Backend events skipped as unknown or malformed").register(registry);
        slowConsumerCloses = Counter.builder("diminuendo.connections.slow.consumer.closes").description("Connections closed with 4009").register(registry);
        writerRejections = Counter.builder("diminuendo.writer.rejections").description("Writes refused because the writer queue was full").register(registry);
        writerFailures = Counter.builder("diminuendo.writer.failures").description("Batches whose commit failed").register(registry);
        batchSize = DistributionSummary.builder("diminuendo.writer.batch.size").description("Writes per committed batch").register(registry);
        commitLatency = Timer.builder("diminuendo.writer.commit.latency").description("Time to apply and commit one batch").register(registry);
        for (ErrorCode code : ErrorCode.values()) {
            errors.put(code, Counter.builder("diminuendo.errors").tag("code", code.wire())
                    .description("Error replies sent, by code").register(registry));
        }
    }

    public void error(ErrorCode code) {
        errors.get(code).increment();
    }

    public void gauge(String name, String description, Supplier<Number> value) {
        Gauge.builder(name, value).description(description).register(registry);
    }

    /** A gauge with one label, e.g. one series per backend. */
    public void gauge(String name, String description, String label, String labelValue, Supplier<Number> value) {
        Gauge.builder(name, value).tag(label, labelValue).description(description).register(registry);
    }

    public void recordCommit(int rows, long nanos) {
        batchSize.record(rows);
        commitLatency.record(nanos, TimeUnit.NANOSECONDS);
    }
}

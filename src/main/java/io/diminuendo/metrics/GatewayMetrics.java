package io.diminuendo.metrics;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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
    public final Counter storeSeqConflicts;
    public final Counter busPublished;
    public final Counter busReceived;
    public final Counter routedCommands;
    public final Counter gapCatchUps;
    public final Counter behindCatchUps;
    public final Counter jwksRefreshes;
    public final Counter jwksFailures;
    public final Counter leaseTakeovers;
    public final Counter streamPauses;
    public final Counter replayCatchUpRounds;
    public final DistributionSummary batchSize;
    public final Timer commitLatency;
    private final Map<ErrorCode, Counter> errors = new EnumMap<>(ErrorCode.class);
    private final Map<String, Counter> limits = new ConcurrentHashMap<>();

    public GatewayMetrics(MeterRegistry registry) {
        this.registry = registry;
        eventsMapped = Counter.builder("diminuendo.events.mapped").description("Backend events mapped to client events").register(registry);
        eventsPublished = Counter.builder("diminuendo.events.published").description("Session events sequenced and fanned out").register(registry);
        eventsPersisted = Counter.builder("diminuendo.events.persisted").description("Session events committed to the store").register(registry);
        unknownBackendEvents = Counter.builder("diminuendo.backend.events.unknown").description("Backend events skipped as unknown or malformed").register(registry);
        slowConsumerCloses = Counter.builder("diminuendo.connections.slow.consumer.closes").description("Connections closed with 4009").register(registry);
        writerRejections = Counter.builder("diminuendo.writer.rejections").description("Writes refused because the writer queue was full").register(registry);
        writerFailures = Counter.builder("diminuendo.writer.failures").description("Batches whose commit failed").register(registry);
        storeSeqConflicts = Counter.builder("diminuendo.store.seq.conflicts")
                .description("Events the store refused or skipped because their (session, seq) was taken").register(registry);
        busPublished = Counter.builder("diminuendo.bus.published")
                .description("Events and session changes this pod published to the other pods").register(registry);
        busReceived = Counter.builder("diminuendo.bus.received")
                .description("Events and session changes received from the other pods").register(registry);
        routedCommands = Counter.builder("diminuendo.bus.routed.commands")
                .description("Requests sent to the pod that runs the session's turn").register(registry);
        gapCatchUps = Counter.builder("diminuendo.subscriptions.gap.catch.ups")
                .description("Live subscriptions that saw a seq gap and caught up from the store").register(registry);
        behindCatchUps = Counter.builder("diminuendo.subscriptions.behind.catch.ups")
                .description("Live subscriptions whose client fell behind (no room for live events) and caught up from the store")
                .register(registry);
        jwksRefreshes = Counter.builder("diminuendo.auth.jwks.refreshes")
                .description("Times the identity provider's key set was fetched and replaced").register(registry);
        jwksFailures = Counter.builder("diminuendo.auth.jwks.failures")
                .description("Fetches of the key set that failed (the keys held stay)").register(registry);
        leaseTakeovers = Counter.builder("diminuendo.leases.takeovers")
                .description("Sessions whose owner's lease expired and that this pod took over").register(registry);
        streamPauses = Counter.builder("diminuendo.stream.pauses").description("Times a turn paused its backend because the writer queue was full").register(registry);
        replayCatchUpRounds = Counter.builder("diminuendo.replay.catch.up.rounds")
                .description("Replay rounds that caught up from the store with live events dropped during the previous round")
                .register(registry);
        batchSize = DistributionSummary.builder("diminuendo.writer.batch.size").description("Writes per committed batch").register(registry);
        commitLatency = Timer.builder("diminuendo.writer.commit.latency").description("Time to apply and commit one batch").register(registry);
        for (String limit : LIMITS) {
            limitHit(limit, 0);
        }
        for (ErrorCode code : ErrorCode.values()) {
            errors.put(code, Counter.builder("diminuendo.errors").tag("code", code.wire())
                    .description("Error replies sent, by code").register(registry));
        }
    }

    /** A connection over its outbound byte budget, closed with 4009. */
    public static final String OUTBOUND_BYTES = "outbound_bytes";
    /** A connection whose frame would have passed the process-wide outbound byte budget, closed with 4009. */
    public static final String OUTBOUND_BYTES_TOTAL = "outbound_bytes_total";
    /** A {@code history} request refused because its connection did not drain in time, or had too many waiting. */
    public static final String HISTORY_WAIT = "history_wait";

    /** Names of the limits counted by {@link #limitHit}; all are registered at start so they show at 0. */
    /** A store read waited because its tenant had {@code reads-per-tenant} reads running. */
    public static final String READS_PER_TENANT = "reads_per_tenant";
    /** A store read waited because its connection had {@code reads-per-connection} reads running. */
    public static final String READS_PER_CONNECTION = "reads_per_connection";
    /** A store read gave up after {@code read-wait}: the request was answered {@code unavailable}. */
    public static final String READ_WAIT = "read_wait";
    /** A REST request over its user's rate, answered 429. */
    public static final String REST_RATE = "rest_rate";
    /** An HTTP connection closed because its request headers did not arrive within {@code header-timeout}. */
    public static final String HEADER_TIMEOUT = "header_timeout";
    public static final List<String> LIMITS = List.of("frame_size", "frame_rate", "frame_rate_close",
            "connections_per_user", "connections_per_tenant", "subscriptions_per_connection", "sessions_per_tenant",
            "idle_timeout", "token_expired", "origin", "auth_timeout", OUTBOUND_BYTES, OUTBOUND_BYTES_TOTAL,
            HISTORY_WAIT, READS_PER_TENANT, READS_PER_CONNECTION, READ_WAIT, REST_RATE, HEADER_TIMEOUT);

    /** Counts one hit of the named limit ({@code diminuendo_limit_hits_total{limit=…}}). */
    public void limitHit(String limit) {
        limitHit(limit, 1);
    }

    /** How often {@code limit} was hit so far. */
    public double limitHits(String limit) {
        Counter c = limits.get(limit);
        return c == null ? 0 : c.count();
    }

    private void limitHit(String limit, int n) {
        limits.computeIfAbsent(limit, l -> Counter.builder("diminuendo.limit.hits").tag("limit", l)
                .description("Requests or connections refused or closed by a limit").register(registry)).increment(n);
    }

    public void error(ErrorCode code) {
        errors.get(code).increment();
    }

    public void gauge(String name, String description, Supplier<Number> value, String... tags) {
        Gauge.builder(name, value).description(description).tags(tags).register(registry);
    }

    public Counter counter(String name, String description, String... tags) {
        return Counter.builder(name).description(description).tags(tags).register(registry);
    }

    public void recordCommit(int rows, long nanos) {
        batchSize.record(rows);
        commitLatency.record(nanos, TimeUnit.NANOSECONDS);
    }
}

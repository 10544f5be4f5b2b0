package io.diminuendo.stream;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.ProtocolException;

/**
 * Shares the store's read connections fairly. Every history and replay read takes a slot of its tenant
 * ({@code reads-per-tenant}) and of its connection ({@code reads-per-connection}) while it runs, waiting its turn
 * in arrival order when they are taken. A tenant with hundreds of large reads in flight thus holds at most its
 * share of the pool, and another tenant's read finds a connection free. A read that cannot start within
 * {@code read-wait} fails with {@code unavailable} and {@code retryAfterMs}: the request changed nothing and can
 * be sent again.
 * <p>
 * Reads run on worker threads; the wait blocks one (never an event loop).
 */
@ApplicationScoped
public class ReadGate {
    /** The retry hint when a read could not start in time. */
    static final long RETRY_MS = 1000;

    private final Map<String, Semaphore> tenants = new ConcurrentHashMap<>();
    private final int perTenant;
    private final long waitNanos;
    private final GatewayMetrics metrics;

    @Inject
    public ReadGate(GatewayConfig config, GatewayMetrics metrics) {
        this(config.limits().readsPerTenant(), config.limits().readWait().toNanos(), metrics);
    }

    ReadGate(int perTenant, long waitNanos, GatewayMetrics metrics) {
        this.perTenant = perTenant;
        this.waitNanos = waitNanos;
        this.metrics = metrics;
    }

    /**
     * Runs {@code read} once {@code tenantId} and {@code connection} (null: none) have a slot free, or fails with
     * {@code unavailable} after {@code read-wait}. Blocking.
     */
    public <T> T read(String tenantId, Semaphore connection, Supplier<T> read) {
        long deadline = System.nanoTime() + waitNanos;
        if (connection != null && !take(connection, deadline, GatewayMetrics.READS_PER_CONNECTION)) {
            throw busy("this connection has its reads running");
        }
        try {
            Semaphore tenant = tenants.computeIfAbsent(tenantId, t -> new Semaphore(perTenant, true));
            if (!take(tenant, deadline, GatewayMetrics.READS_PER_TENANT)) {
                throw busy("tenant " + tenantId + " has " + perTenant + " reads running");
            }
            try {
                return read.get();
            } finally {
                tenant.release();
            }
        } finally {
            if (connection != null) {
                connection.release();
            }
        }
    }

    private boolean take(Semaphore slots, long deadline, String limit) {
        if (slots.tryAcquire()) {
            return true;
        }
        metrics.limitHit(limit);
        try {
            return slots.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private ProtocolException busy(String why) {
        metrics.limitHit(GatewayMetrics.READ_WAIT);
        return new ProtocolException(ErrorCode.UNAVAILABLE, "the store's reads are busy ("
                + why + "); retry shortly", RETRY_MS);
    }
}

package io.diminuendo.connection;

import java.util.concurrent.atomic.AtomicLong;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.quarkus.runtime.Startup;

/**
 * The process-wide budget of outbound bytes: frames queued for any connection and not yet written
 * ({@code diminuendo.limits.outbound-bytes-total}). Those frames are direct memory outside the heap, so without
 * this bound clients that do not read grow the process until the pod is OOM-killed with every tenant on it.
 * <p>
 * A connection does not touch this counter for every frame: it reports its queued bytes in whole
 * {@link #CHUNK}s, only when its own count crosses a chunk boundary ({@link #moved}). A connection whose frames are
 * written as fast as they come (the common case: a few hundred bytes queued at a time) never reaches the shared
 * counter; the total undercounts by less than one chunk per connection.
 * <p>
 * A {@code @Singleton}: every connection calls {@link #moved} for each frame it queues and writes, and an
 * application-scoped bean would be reached through a client proxy that looks the instance up on each call (a tenth of
 * the gateway's CPU samples under the paced benchmark).
 */
@Startup
@Singleton
public class OutboundBytes {
    /** Granularity of a connection's share in the total. */
    static final long CHUNK = 4096;

    private final AtomicLong total = new AtomicLong();
    private final long budget;

    @Inject
    public OutboundBytes(GatewayConfig config, GatewayMetrics metrics) {
        this(config.limits().outboundBytesTotal());
        metrics.gauge("diminuendo.outbound.bytes", "Bytes queued for sending across all connections (in 4 KiB steps per connection)",
                total::get);
        metrics.gauge("diminuendo.outbound.bytes.budget", "Bound of diminuendo_outbound_bytes (outbound-bytes-total)",
                () -> budget);
    }

    OutboundBytes(long budget) {
        this.budget = budget;
    }

    /**
     * A connection's queued bytes went from {@code before} to {@code after} (one atomic step of its own counter).
     * Returns false when that step added a chunk and the total is now over the budget: the caller takes its bytes
     * back (another step) and cuts the connection.
     */
    boolean moved(long before, long after) {
        long chunks = after / CHUNK - before / CHUNK;
        if (chunks == 0) {
            return true;
        }
        long now = total.addAndGet(chunks * CHUNK);
        return chunks < 0 || now <= budget;
    }

    /** Below seven eighths of the budget: live events keep flowing; above, subscribers catch up from the store. */
    boolean hasRoomForLive() {
        return total.get() <= budget - budget / 8;
    }

    long total() {
        return total.get();
    }
}

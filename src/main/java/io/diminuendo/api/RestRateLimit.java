package io.diminuendo.api;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.diminuendo.auth.Identity;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.limits.TokenBucket;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.ProtocolException;
import io.vertx.core.Vertx;

/**
 * The REST API's request rate per user ({@code rest-requests-per-second}, bursts of {@code rest-burst}): a
 * {@link TokenBucket} per (tenant, user), as the WebSocket has per connection. A request over it is refused with 429,
 * {@code retryAfterMs} and {@code Retry-After}, before it does anything. Buckets that have filled up again are
 * dropped every minute, so the map holds only users active in the last minute.
 */
@ApplicationScoped
public class RestRateLimit {
    private final Map<User, TokenBucket> buckets = new ConcurrentHashMap<>();
    private final int perSecond;
    private final int burst;
    private final GatewayMetrics metrics;

    private record User(String tenantId, String userId) {
    }

    @Inject
    public RestRateLimit(GatewayConfig config, GatewayMetrics metrics, Vertx vertx) {
        this.perSecond = config.limits().restRequestsPerSecond();
        this.burst = config.limits().restBurst();
        this.metrics = metrics;
        vertx.setPeriodic(60_000, id -> dropFullBuckets());
    }

    /** Takes a token for {@code who}, or refuses the request with {@code rate_limited}. */
    public void admit(Identity who) {
        TokenBucket b = buckets.computeIfAbsent(new User(who.tenantId(), who.userId()),
                u -> new TokenBucket(perSecond, burst, System.nanoTime()));
        long retryAfterMs;
        synchronized (b) {
            if (b.tryTake(System.nanoTime())) {
                return;
            }
            retryAfterMs = b.millisUntilToken();
        }
        metrics.limitHit(GatewayMetrics.REST_RATE);
        throw new ProtocolException(ErrorCode.RATE_LIMITED, "more than " + perSecond + " requests per second from "
                + "this user; retry after " + retryAfterMs + " ms", retryAfterMs);
    }

    private void dropFullBuckets() {
        long now = System.nanoTime();
        buckets.values().removeIf(b -> {
            synchronized (b) {
                return b.isFull(now);
            }
        });
    }
}

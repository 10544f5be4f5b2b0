package io.diminuendo.limits;

/**
 * A token bucket: {@code perSecond} tokens flow in per second, up to {@code burst}; each admitted request takes one.
 * It starts full. Not thread-safe: the WebSocket keeps one per connection on its event loop, REST one per user under
 * the bucket's monitor. Times are {@link System#nanoTime()} readings, passed in so that callers read the clock once.
 */
public final class TokenBucket {
    private final int perSecond;
    private final int burst;
    private double tokens;
    private long refilledAtNanos;

    public TokenBucket(int perSecond, int burst, long nowNanos) {
        if (perSecond < 1 || burst < 1) {
            throw new IllegalArgumentException("rate and burst must be positive: " + perSecond + "/s, " + burst);
        }
        this.perSecond = perSecond;
        this.burst = burst;
        this.tokens = burst;
        this.refilledAtNanos = nowNanos;
    }

    /** Takes a token if there is a whole one at {@code nowNanos}; false when the request is over the rate. */
    public boolean tryTake(long nowNanos) {
        refill(nowNanos);
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }

    /** Milliseconds until a whole token is there again, as of the last {@link #tryTake} (at least 1). */
    public long millisUntilToken() {
        return Math.max(1, (long) Math.ceil((1 - tokens) * 1000 / perSecond));
    }

    /** True when the bucket has filled up again by {@code nowNanos}: it holds nothing a new bucket would not. */
    public boolean isFull(long nowNanos) {
        refill(nowNanos);
        return tokens >= burst;
    }

    private void refill(long nowNanos) {
        tokens = Math.min(burst, tokens + (nowNanos - refilledAtNanos) * perSecond / 1e9);
        refilledAtNanos = nowNanos;
    }
}

package io.diminuendo.connection;

import jakarta.enterprise.context.ApplicationScoped;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.limits.TokenBucket;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.CloseCode;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.FrameDecoder;

/**
 * The limits on each inbound text frame before it is decoded: the per-connection frame rate (a token bucket) and
 * {@code diminuendo.limits.max-frame-bytes}. Runs on the connection's event loop.
 */
@ApplicationScoped
public class InboundLimits {
    private final GatewayMetrics metrics;
    private final GatewayConfig.Limits limits;
    private final int maxFrameBytes;

    public InboundLimits(GatewayMetrics metrics, GatewayConfig config) {
        this.metrics = metrics;
        this.limits = config.limits();
        this.maxFrameBytes = limits.maxFrameBytes();
    }

    /** Gives a new connection its token bucket, full to the burst. */
    void opened(ClientConnection c) {
        c.limitFrames(new TokenBucket(limits.framesPerSecond(), limits.frameBurst(), System.nanoTime()));
    }

    /**
     * True when the frame may be decoded. Otherwise it is refused, and answered with an error that carries its id
     * (read without decoding the frame), so a client waiting on that id is not left waiting: {@code rate_limited}
     * with {@code retryAfterMs} over the rate, {@code too_large} over the size. A connection that keeps sending past
     * the rate for {@code max-rejected-frames} frames in a row is closed (4429) instead.
     */
    boolean admit(ClientConnection c, String text) {
        int perSecond = limits.framesPerSecond();
        int refused = c.takeFrameToken();
        if (refused > 0) {
            metrics.limitHit("frame_rate");
            if (refused > limits.maxRejectedFrames()) {
                metrics.limitHit("frame_rate_close");
                c.close(CloseCode.TOO_MANY_FRAMES);
            } else {
                c.sendError(FrameDecoder.peekId(text), ErrorCode.RATE_LIMITED, "more than " + perSecond
                        + " frames per second; this frame was not processed", c.millisUntilToken());
            }
            return false;
        }
        if (exceedsLimit(text)) {
            metrics.limitHit("frame_size");
            c.sendError(FrameDecoder.peekId(text), ErrorCode.TOO_LARGE, "frame exceeds " + maxFrameBytes + " bytes");
            return false;
        }
        return true;
    }

    /** Whether the frame's UTF-8 encoding is over the limit, counted only when the length alone cannot tell. */
    private boolean exceedsLimit(String text) {
        int chars = text.length();
        if (chars > maxFrameBytes) {
            return true;
        }
        if ((long) chars * 3 <= maxFrameBytes) {
            return false;
        }
        long bytes = 0;
        for (int i = 0; i < chars; i++) {
            char ch = text.charAt(i);
            if (ch < 0x80) {
                bytes++;
            } else if (ch < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(ch)) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes > maxFrameBytes;
    }
}

package io.diminuendo.connection;

import jakarta.enterprise.context.ApplicationScoped;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.CloseCode;
import io.diminuendo.protocol.ErrorCode;

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

    /** Fills a new connection's token bucket to the burst. */
    void opened(ClientConnection c) {
        c.fillBucket(limits.frameBurst());
    }

    /**
     * True when the frame may be decoded. Otherwise it is dropped: the first refusal in a row is answered with an
     * error, and a connection that keeps sending past the rate is closed (4429).
     */
    boolean admit(ClientConnection c, String text) {
        int refused = c.takeFrameToken(limits.framesPerSecond(), limits.frameBurst());
        if (refused > 0) {
            metrics.limitHit("frame_rate");
            if (refused > limits.maxRejectedFrames()) {
                metrics.limitHit("frame_rate_close");
                c.close(CloseCode.TOO_MANY_FRAMES);
            } else if (refused == 1) {
                c.sendError(null, ErrorCode.RATE_LIMITED, "more than " + limits.framesPerSecond()
                        + " frames per second; frames are dropped until the rate falls");
            }
            return false;
        }
        if (exceedsLimit(text)) {
            metrics.limitHit("frame_size");
            c.sendError(null, ErrorCode.TOO_LARGE, "frame exceeds " + maxFrameBytes + " bytes");
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

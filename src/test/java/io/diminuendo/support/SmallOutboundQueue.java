package io.diminuendo.support;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * Test profile for slow-consumer and catch-up tests: an outbound queue of 64 frames and 256 KiB (history replies of
 * at most 64 KiB), a client reading nothing cut after 2 s, and the server's socket send buffer fixed at 8 KiB ({@link ServerSendBuffer}) so that the outbound queue, not a multi-megabyte loopback
 * socket buffer, is what fills when a client stops reading. Test classes sharing it share one application start.
 */
public class SmallOutboundQueue implements QuarkusTestProfile {
    public static final int CAPACITY = 64;
    public static final int BYTES = 256 * 1024;
    public static final int MAX_REPLY_BYTES = 64 * 1024;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("diminuendo.limits.outbound-queue", String.valueOf(CAPACITY),
                "diminuendo.limits.outbound-bytes", String.valueOf(BYTES),
                "diminuendo.limits.max-reply-bytes", String.valueOf(MAX_REPLY_BYTES),
                "diminuendo.limits.slow-reader-timeout", "2s",
                "diminuendo-test.server-send-buffer-bytes", "8192");
    }
}

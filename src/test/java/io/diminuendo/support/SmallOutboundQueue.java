package io.diminuendo.support;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * Test profile for slow-consumer and catch-up tests: an outbound queue of 64 frames, and the server's socket send
 * buffer fixed at 8 KiB ({@link ServerSendBuffer}) so that the outbound queue, not a multi-megabyte loopback
 * socket buffer, is what fills when a client stops reading. Test classes sharing it share one application start.
 */
public class SmallOutboundQueue implements QuarkusTestProfile {
    public static final int CAPACITY = 64;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("diminuendo.limits.outbound-queue", String.valueOf(CAPACITY),
                "diminuendo-test.server-send-buffer-bytes", "8192");
    }
}

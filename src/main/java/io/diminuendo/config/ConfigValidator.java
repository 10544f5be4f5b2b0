package io.diminuendo.config;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.configuration.ConfigUtils;

/**
 * Checks the configuration before anything else starts and refuses to start on a bad value, naming the
 * property. In the prod profile it also refuses to run without key material or with the documented dev key.
 */
@ApplicationScoped
public class ConfigValidator {
    /** The documented development API key; never accepted in the prod profile. */
    public static final String DEV_KEY = "diminuendo-dev-key";

    /** The outbound counters of a connection pack frames and bytes into one long (ClientConnection). */
    static final long MAX_OUTBOUND_QUEUE = 1 << 20;
    static final long MIN_OUTBOUND_BYTES = 64 * 1024;
    static final long MAX_OUTBOUND_BYTES = 1L << 36;
    /** An AG-UI body must hold at least a small history; the upper bound keeps one request's buffer sane. */
    static final long MIN_AGUI_BODY_BYTES = 4096;
    static final long MAX_AGUI_BODY_BYTES = 256L * 1024 * 1024;

    /** Quarkus's own default of {@code quarkus.http.idle-timeout}. */
    static final Duration HTTP_IDLE_TIMEOUT_DEFAULT = Duration.ofMinutes(30);

    private final GatewayConfig config;
    private final int maxMessageSize;
    private final Duration httpIdleTimeout;

    @Inject
    public ConfigValidator(GatewayConfig config,
            @ConfigProperty(name = "quarkus.websockets-next.server.max-message-size", defaultValue = "65536") int maxMessageSize,
            @ConfigProperty(name = "quarkus.http.idle-timeout", defaultValue = "30M") Duration httpIdleTimeout) {
        this.config = config;
        this.maxMessageSize = maxMessageSize;
        this.httpIdleTimeout = httpIdleTimeout;
    }

    /** With Quarkus's default HTTP idle timeout. */
    public ConfigValidator(GatewayConfig config, int maxMessageSize) {
        this(config, maxMessageSize, HTTP_IDLE_TIMEOUT_DEFAULT);
    }

    void validate(@Observes @Priority(1) StartupEvent event) {
        List<String> problems = problems(ConfigUtils.getProfiles().contains("prod"));
        if (!problems.isEmpty()) {
            throw new IllegalStateException("invalid configuration:\n  - " + String.join("\n  - ", problems));
        }
    }

    /** Every problem found, one message each naming the property; empty when the configuration is usable. */
    public List<String> problems(boolean prod) {
        List<String> out = new ArrayList<>();
        GatewayConfig.Auth auth = config.auth();
        auth.jwtSecret().ifPresent(secret -> {
            if (secret.getBytes(StandardCharsets.UTF_8).length < 32) {
                out.add("diminuendo.auth.jwt-secret must be at least 32 bytes for HS256");
            }
        });
        auth.jwtPublicKeyLocation().ifPresent(location -> {
            if (!Files.isReadable(Path.of(location))) {
                out.add("diminuendo.auth.jwt-public-key-location: cannot use " + location + ": not a readable file");
            }
        });
        for (Map.Entry<String, GatewayConfig.ApiKey> e : auth.apiKeys().entrySet()) {
            String prefix = "diminuendo.auth.api-keys." + e.getKey() + ".";
            GatewayConfig.ApiKey k = e.getValue();
            if (k.key().length() < 8) {
                out.add(prefix + "key must be at least 8 characters");
            }
            if (k.userId().isBlank()) {
                out.add(prefix + "user-id must not be blank");
            }
            if (k.tenantId().isBlank()) {
                out.add(prefix + "tenant-id must not be blank");
            }
            if (prod && DEV_KEY.equals(k.key())) {
                out.add(prefix + "key is the documented development key; the prod profile refuses it");
            }
        }
        auth.jwksUrl().ifPresent(url -> {
            if (!url.startsWith("https://") && !url.startsWith("http://")) {
                out.add("diminuendo.auth.jwks-url must be an http or https URL, got " + url);
            } else {
                try {
                    URI.create(url);
                } catch (IllegalArgumentException e) {
                    out.add("diminuendo.auth.jwks-url is not a URL: " + e.getMessage());
                }
            }
        });
        positive(out, "diminuendo.auth.jwks-refresh", auth.jwksRefresh().toMillis());
        positive(out, "diminuendo.auth.jwks-min-refresh-interval", auth.jwksMinRefreshInterval().toMillis());
        if (prod && auth.jwtSecret().isEmpty() && auth.jwtPublicKeyLocation().isEmpty() && auth.jwksUrl().isEmpty()
                && auth.apiKeys().isEmpty()) {
            out.add("no key material: set diminuendo.auth.jwt-secret, diminuendo.auth.jwt-public-key-location,"
                    + " diminuendo.auth.jwks-url or diminuendo.auth.api-keys.<name>.key (the prod profile has no default"
                    + " credentials)");
        }
        positive(out, "diminuendo.auth.timeout", auth.timeout().toMillis());
        if (config.warmup().enabled()) {
            positive(out, "diminuendo.warmup.rounds", config.warmup().rounds());
            positive(out, "diminuendo.warmup.max-duration", config.warmup().maxDuration().toMillis());
        }
        GatewayConfig.Limits limits = config.limits();
        positive(out, "diminuendo.limits.max-frame-bytes", limits.maxFrameBytes());
        if (limits.maxFrameBytes() > maxMessageSize) {
            out.add("diminuendo.limits.max-frame-bytes (" + limits.maxFrameBytes()
                    + ") must not exceed quarkus.websockets-next.server.max-message-size (" + maxMessageSize + ")");
        }
        atLeast(out, "diminuendo.limits.outbound-queue", limits.outboundQueue(), 16);
        atMost(out, "diminuendo.limits.outbound-queue", limits.outboundQueue(), MAX_OUTBOUND_QUEUE);
        atLeast(out, "diminuendo.limits.outbound-bytes", limits.outboundBytes(), MIN_OUTBOUND_BYTES);
        atMost(out, "diminuendo.limits.outbound-bytes", limits.outboundBytes(), MAX_OUTBOUND_BYTES);
        if (limits.outboundBytesTotal() < limits.outboundBytes()) {
            out.add("diminuendo.limits.outbound-bytes-total (" + limits.outboundBytesTotal()
                    + ") must be at least diminuendo.limits.outbound-bytes (" + limits.outboundBytes() + ")");
        }
        positive(out, "diminuendo.limits.max-reply-bytes", limits.maxReplyBytes());
        positive(out, "diminuendo.limits.slow-reader-timeout", limits.slowReaderTimeout().toMillis());
        positive(out, "diminuendo.limits.reads-per-tenant", limits.readsPerTenant());
        positive(out, "diminuendo.limits.rest-requests-per-second", limits.restRequestsPerSecond());
        positive(out, "diminuendo.limits.rest-burst", limits.restBurst());
        positive(out, "diminuendo.limits.reads-per-connection", limits.readsPerConnection());
        positive(out, "diminuendo.limits.read-wait", limits.readWait().toMillis());
        boolean idleTimeoutOn = !httpIdleTimeout.isZero() && !httpIdleTimeout.isNegative();
        if (idleTimeoutOn && httpIdleTimeout.compareTo(limits.pingInterval()) <= 0) {
            // on a WebSocket the HTTP idle timeout does not see the streamed frames (the outbox writes below it), only
            // the client's frames and pongs and the gateway's pings: a timeout no longer than the ping interval cuts
            // quiet connections that are alive. 0 turns that timeout off (Vert.x then adds no idle handler).
            out.add("quarkus.http.idle-timeout (" + httpIdleTimeout + ") must be longer than diminuendo.limits.ping-interval ("
                    + limits.pingInterval() + "): a WebSocket's pongs are what keeps it from closing the connection");
        }
        if (limits.headerTimeout().toMillis() < 1) {
            out.add("diminuendo.limits.header-timeout must be positive (was " + limits.headerTimeout() + ")");
        }
        if (limits.maxReplyBytes() > limits.outboundBytes() / 2) {
            out.add("diminuendo.limits.max-reply-bytes (" + limits.maxReplyBytes()
                    + ") must be at most half of diminuendo.limits.outbound-bytes (" + limits.outboundBytes()
                    + "): a reply waits for that much room");
        }
        positive(out, "diminuendo.limits.max-prompt-chars", limits.maxPromptChars());
        positive(out, "diminuendo.limits.max-title-chars", limits.maxTitleChars());
        positive(out, "diminuendo.limits.max-metadata-chars", limits.maxMetadataChars());
        GatewayConfig.Writer writer = config.store().writer();
        atLeast(out, "diminuendo.store.writer.queue-capacity", writer.queueCapacity(), 16);
        positive(out, "diminuendo.store.writer.max-batch-rows", writer.maxBatchRows());
        positive(out, "diminuendo.store.writer.stall-threshold", writer.stallThreshold().toMillis());
        if (writer.checkpointInterval().isNegative()) {
            out.add("diminuendo.store.writer.checkpoint-interval must not be negative (0 disables the background checkpoint)");
        }
        if (writer.lowSpaceBytes() < 0) {
            out.add("diminuendo.store.writer.low-space-bytes must not be negative (0 turns the low-space mode off)");
        }
        atLeast(out, "diminuendo.store.writer.page-cache-bytes", writer.pageCacheBytes(), 65536);
        if (writer.maxBatchDelay().isNegative()) {
            out.add("diminuendo.store.writer.max-batch-delay must not be negative");
        } else if (writer.maxBatchDelay().compareTo(writer.stallThreshold()) >= 0) {
            out.add("diminuendo.store.writer.max-batch-delay (" + writer.maxBatchDelay().toMillis() + " ms) must be"
                    + " shorter than diminuendo.store.writer.stall-threshold (" + writer.stallThreshold().toMillis()
                    + " ms): a batch that waits that long would report the writer stalled");
        }
        writer.linger().ifPresent(linger -> {
            if (linger.isNegative()) {
                out.add("diminuendo.store.writer.linger must not be negative (0 commits as soon as the queue is empty)");
            } else if (linger.compareTo(writer.maxBatchDelay()) > 0) {
                out.add("diminuendo.store.writer.linger (" + linger.toMillis() + " ms) must not exceed"
                        + " diminuendo.store.writer.max-batch-delay (" + writer.maxBatchDelay().toMillis()
                        + " ms), which bounds every batch");
            }
        });
        GatewayConfig.Store store = config.store();
        if (store.kind() == GatewayConfig.StoreKind.SQLITE && store.path().isBlank()) {
            out.add("diminuendo.store.path must name a file");
        }
        if (store.kind() == GatewayConfig.StoreKind.POSTGRESQL) {
            if (store.jdbcUrl().filter(u -> u.startsWith("jdbc:postgresql:")).isEmpty()) {
                out.add("diminuendo.store.jdbc-url must be a jdbc:postgresql: URL when diminuendo.store.kind=postgresql"
                        + store.jdbcUrl().map(u -> " (was " + u + ")").orElse(" (it is not set)"));
            }
            positive(out, "diminuendo.store.read-pool-size", store.readPoolSize());
        }
        if (config.bus().kind() == GatewayConfig.BusKind.NATS) {
            if (store.kind() != GatewayConfig.StoreKind.POSTGRESQL) {
                out.add("diminuendo.bus.kind=nats needs diminuendo.store.kind=postgresql: pods that share events must"
                        + " share the store (an SQLite file belongs to one process)");
            }
            if (config.bus().url().filter(u -> !u.isBlank()).isEmpty()) {
                out.add("diminuendo.bus.url must name the NATS server(s) when diminuendo.bus.kind=nats");
            }
        }
        if (config.cluster().leaseExpiry().toMillis() < 1000) {
            out.add("diminuendo.cluster.lease-expiry must be at least 1s (was " + config.cluster().leaseExpiry() + ")");
        }
        if (config.bus().subjectPrefix().isBlank() || !config.bus().subjectPrefix().matches("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*")) {
            out.add("diminuendo.bus.subject-prefix must be NATS subject tokens separated by dots (was '"
                    + config.bus().subjectPrefix() + "')");
        }
        positive(out, "diminuendo.turns.timeout", config.turns().timeout().toMillis());
        GatewayConfig.Agui agui = config.agui();
        atLeast(out, "diminuendo.agui.max-body-bytes", agui.maxBodyBytes(), MIN_AGUI_BODY_BYTES);
        atMost(out, "diminuendo.agui.max-body-bytes", agui.maxBodyBytes(), MAX_AGUI_BODY_BYTES);
        if (agui.keepAliveInterval().toMillis() < 100) {
            out.add("diminuendo.agui.keep-alive-interval must be at least 100ms (was " + agui.keepAliveInterval() + ")");
        }
        if (agui.cancelWait().isNegative()) {
            out.add("diminuendo.agui.cancel-wait must not be negative (was " + agui.cancelWait() + ")");
        }
        return out;
    }

    private static void atMost(List<String> out, String name, long value, long max) {
        if (value > max) {
            out.add(name + " must be at most " + max + " (was " + value + ")");
        }
    }

    private static void positive(List<String> out, String name, long value) {
        atLeast(out, name, value, 1);
    }

    private static void atLeast(List<String> out, String name, long value, long min) {
        if (value < min) {
            out.add(name + " must be at least " + min + " (was " + value + ")");
        }
    }
}

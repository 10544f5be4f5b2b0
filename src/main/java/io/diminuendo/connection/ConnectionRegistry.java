package io.diminuendo.connection;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.jboss.logging.Logger;

import io.diminuendo.auth.Identity;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.CloseCode;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;

/** Every open client connection: for the gauges, the per-user and per-tenant limits, the idle sweep and shutdown. */
@ApplicationScoped
public class ConnectionRegistry {
    private static final Logger LOG = Logger.getLogger(ConnectionRegistry.class);
    private static final long CLOSE_WAIT_MS = 3000;

    private final Map<String, ClientConnection> open = new ConcurrentHashMap<>();
    private final Map<UserKey, AtomicInteger> perUser = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> perTenant = new ConcurrentHashMap<>();

    /** A user within a tenant; two fields, so no tenant and user id can be made to look like another pair. */
    private record UserKey(String tenantId, String userId) {
    }
    private final AtomicInteger authenticated = new AtomicInteger();
    /** Connections opened so far: the next one's {@link #pingPhase}. */
    private final AtomicLong opened = new AtomicLong();
    private volatile boolean shuttingDown;
    private final GatewayMetrics metrics;
    private final Vertx vertx;
    private final GatewayConfig.Limits limits;

    /**
     * Pings every connection once each {@code ping-interval} and closes those idle for {@code idle-timeout}. The pings
     * are spread over the interval: each connection has its own moment in it ({@link #pingPhase}), and a sweep every
     * thousandth of the interval pings those whose moment has come (the others cost the sweep a field read). Pinging
     * every connection in one sweep held the event loop for the whole burst (about 170 ms for 1,000 connections on a
     * 2-core machine, every 30 s), and every frame queued behind it waited as long.
     */
    void startSweeper(@Observes StartupEvent event) {
        long idleNanos = limits.idleTimeout().toNanos();
        long intervalNanos = limits.pingInterval().toNanos();
        vertx.setPeriodic(sweepMillis(limits.pingInterval()), id -> sweep(System.nanoTime(), idleNanos, intervalNanos));
    }

    /**
     * Where in the ping interval the {@code n}th connection opened is pinged: n times the golden ratio's fraction of
     * it, wrapped. Successive connections land far from each other and fill the interval evenly however many there
     * are, so connections that open together (a reconnecting fleet) are not pinged together.
     */
    static long pingPhase(long n, long intervalNanos) {
        double fraction = (n * 0.6180339887498949) % 1.0;
        return (long) (fraction * intervalNanos);
    }

    /** A thousandth of the ping interval, within 10 ms and 1 s: 30 ms by default, so 10,000 connections take 10 each. */
    static long sweepMillis(Duration pingInterval) {
        return Math.max(10, Math.min(1000, pingInterval.toMillis() / 1000));
    }

    private void sweep(long now, long idleNanos, long intervalNanos) {
        for (ClientConnection c : open.values()) {
            if (c.isClosing()) {
                continue; // counted once, when its close began; it leaves the map when the socket has closed
            }
            if (now - c.lastActivityNanos > idleNanos) {
                metrics.limitHit("idle_timeout");
                c.close(CloseCode.IDLE_TIMEOUT);
            } else if (now - c.nextPingNanos >= 0) {
                c.nextPingNanos = now + intervalNanos;
                c.ping();
            }
        }
    }

    public ConnectionRegistry(GatewayMetrics metrics, Vertx vertx, GatewayConfig config) {
        this.metrics = metrics;
        this.vertx = vertx;
        this.limits = config.limits();
        metrics.gauge("diminuendo.connections.open", "Open WebSocket connections", open::size);
        metrics.gauge("diminuendo.connections.authenticated", "Authenticated WebSocket connections", authenticated::get);
    }

    void add(ClientConnection c) {
        c.nextPingNanos = System.nanoTime() + pingPhase(opened.getAndIncrement(), limits.pingInterval().toNanos());
        open.put(c.id(), c);
    }

    /** Forgets {@code c} and releases its place in its user's and tenant's limits; false when it was already gone. */
    boolean remove(ClientConnection c) {
        if (!open.remove(c.id(), c)) {
            return false;
        }
        if (c.admitted) {
            authenticated.decrementAndGet();
            release(c.identity());
        }
        return true;
    }

    void authenticated() {
        authenticated.incrementAndGet();
    }

    /**
     * Counts an authenticated connection against its user's and tenant's limits; returns the limit that refused
     * it ({@code connections_per_user} or {@code connections_per_tenant}), or null when it was admitted.
     */
    String admit(Identity who, int maxPerUser, int maxPerTenant) {
        AtomicInteger user = perUser.computeIfAbsent(new UserKey(who.tenantId(), who.userId()), k -> new AtomicInteger());
        if (user.incrementAndGet() > maxPerUser) {
            user.decrementAndGet();
            return "connections_per_user";
        }
        AtomicInteger tenant = perTenant.computeIfAbsent(who.tenantId(), k -> new AtomicInteger());
        if (tenant.incrementAndGet() > maxPerTenant) {
            tenant.decrementAndGet();
            user.decrementAndGet();
            return "connections_per_tenant";
        }
        return null;
    }

    void release(Identity who) {
        AtomicInteger user = perUser.get(new UserKey(who.tenantId(), who.userId()));
        if (user != null) {
            user.decrementAndGet();
        }
        AtomicInteger tenant = perTenant.get(who.tenantId());
        if (tenant != null) {
            tenant.decrementAndGet();
        }
    }

    public boolean isShuttingDown() {
        return shuttingDown;
    }

    public Collection<ClientConnection> all() {
        return open.values();
    }

    /** Refuses new connections and closes the open ones with 1001, waiting briefly for them to go. */
    public void closeAll() {
        shuttingDown = true;
        int n = open.size();
        for (ClientConnection c : open.values()) {
            c.close(CloseCode.SHUTTING_DOWN);
        }
        long deadline = System.currentTimeMillis() + CLOSE_WAIT_MS;
        while (!open.isEmpty() && System.currentTimeMillis() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        LOG.infof("closed %d connections for shutdown", n);
    }
}

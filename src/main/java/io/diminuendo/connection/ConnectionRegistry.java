package io.diminuendo.connection;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

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
    private volatile boolean shuttingDown;
    private final GatewayMetrics metrics;
    private final Vertx vertx;
    private final GatewayConfig.Limits limits;

    /** Pings every connection each {@code ping-interval} and closes those idle for {@code idle-timeout}. */
    void startSweeper(@Observes StartupEvent event) {
        long idleNanos = limits.idleTimeout().toNanos();
        vertx.setPeriodic(limits.pingInterval().toMillis(), id -> {
            long now = System.nanoTime();
            for (ClientConnection c : open.values()) {
                if (now - c.lastActivityNanos > idleNanos) {
                    metrics.limitHit("idle_timeout");
                    c.close(CloseCode.IDLE_TIMEOUT);
                } else {
                    c.ping();
                }
            }
        });
    }

    public ConnectionRegistry(GatewayMetrics metrics, Vertx vertx, GatewayConfig config) {
        this.metrics = metrics;
        this.vertx = vertx;
        this.limits = config.limits();
        metrics.gauge("diminuendo.connections.open", "Open WebSocket connections", open::size);
        metrics.gauge("diminuendo.connections.authenticated", "Authenticated WebSocket connections", authenticated::get);
    }

    void add(ClientConnection c) {
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

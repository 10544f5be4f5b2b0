package io.diminuendo.connection;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.CloseCode;

/** Every open client connection. */
@ApplicationScoped
public class ConnectionRegistry {
    private static final Logger LOG = Logger.getLogger(ConnectionRegistry.class);
    private static final long CLOSE_WAIT_MS = 3000;

    private final Map<String, ClientConnection> open = new ConcurrentHashMap<>();
    private final AtomicInteger authenticated = new AtomicInteger();
    private volatile boolean shuttingDown;

    public ConnectionRegistry(GatewayMetrics metrics) {
        metrics.gauge("diminuendo.connections.open", "Open WebSocket connections", open::size);
        metrics.gauge("diminuendo.connections.authenticated", "Authenticated WebSocket connections", authenticated::get);
    }

    void add(ClientConnection c) {
        open.put(c.id(), c);
    }

    ClientConnection get(String id) {
        return open.get(id);
    }

    ClientConnection remove(String id) {
        ClientConnection c = open.remove(id);
        if (c != null && c.identity() != null) {
            authenticated.decrementAndGet();
        }
        return c;
    }

    void authenticated() {
        authenticated.incrementAndGet();
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
            c.close(CloseCode.GOING_AWAY, "server shutting down");
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

package io.diminuendo.connection;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import jakarta.enterprise.context.ApplicationScoped;

import io.diminuendo.auth.Authenticator;
import io.diminuendo.auth.Identity;
import io.diminuendo.auth.InvalidTokenException;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.hub.Hub;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.CloseCode;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.ServerFrames;
import io.vertx.core.Vertx;

/**
 * Who is on a connection: the token from the upgrade's {@code Authorization} header or from an
 * {@code authenticate} request, the deadline to present one, admission against the per-user and per-tenant
 * limits, and the close when the token expires. Runs on the connection's event loop.
 */
@ApplicationScoped
public class Authentication {
    private final Authenticator authenticator;
    private final ConnectionRegistry connections;
    private final Hub hub;
    private final GatewayMetrics metrics;
    private final Vertx vertx;
    private final GatewayConfig.Limits limits;
    private final long timeoutMs;
    private final long leewayMs;

    public Authentication(Authenticator authenticator, ConnectionRegistry connections, Hub hub, GatewayMetrics metrics,
            Vertx vertx, GatewayConfig config) {
        this.authenticator = authenticator;
        this.connections = connections;
        this.hub = hub;
        this.metrics = metrics;
        this.vertx = vertx;
        this.limits = config.limits();
        this.timeoutMs = config.auth().timeout().toMillis();
        this.leewayMs = config.auth().leeway().toMillis();
    }

    /**
     * Authenticates a new connection with the upgrade's {@code Authorization} header, or, without one, closes it
     * (4408) unless it authenticates within {@code diminuendo.auth.timeout}.
     */
    void opened(ClientConnection c, String authorizationHeader) {
        if (authorizationHeader != null) {
            authenticate(c, null, Authenticator.bearer(authorizationHeader));
            return;
        }
        c.authTimer = vertx.setTimer(timeoutMs, id -> {
            if (c.identity() == null) {
                metrics.limitHit("auth_timeout");
                c.close(CloseCode.AUTH_TIMEOUT);
            }
        });
    }

    /** Cancels the connection's timers and stops its tenant events. */
    void closed(ClientConnection c) {
        if (c.authTimer >= 0) {
            vertx.cancelTimer(c.authTimer);
        }
        if (c.expiryTimer >= 0) {
            vertx.cancelTimer(c.expiryTimer);
        }
        Identity who = c.identity();
        if (who != null) {
            hub.unsubscribe(Hub.tenantTopic(who.tenantId()), c.tenantSubscriber());
        }
    }

    void authenticate(ClientConnection c, String requestId, String token) {
        CompletableFuture<Identity> verified = authenticator.authenticateAsync(token).toCompletableFuture();
        if (verified.isDone()) {
            verified(c, requestId, verified);
            return;
        }
        // the key set is being fetched again (a key id it does not hold): authenticateAsync completes on this
        // connection's event loop
        verified.whenComplete((who, failure) -> verified(c, requestId, verified));
    }

    private void verified(ClientConnection c, String requestId, CompletableFuture<Identity> verified) {
        if (c.isClosing()) {
            return;
        }
        Identity who;
        try {
            who = verified.join();
        } catch (CompletionException e) {
            String why = e.getCause() instanceof InvalidTokenException ? e.getCause().getMessage() : "internal error";
            c.sendError(requestId, ErrorCode.UNAUTHORIZED, "authentication failed: " + why);
            c.close(CloseCode.UNAUTHORIZED);
            return;
        }
        Identity previous = c.identity();
        if (previous != null && (!previous.userId().equals(who.userId()) || !previous.tenantId().equals(who.tenantId()))) {
            c.sendError(requestId, ErrorCode.FORBIDDEN, "re-authentication must keep the same user and tenant");
            return;
        }
        if (previous == null) {
            String refused = connections.admit(who, limits.maxConnectionsPerUser(), limits.maxConnectionsPerTenant());
            if (refused != null) {
                metrics.limitHit(refused);
                c.sendError(requestId, ErrorCode.RATE_LIMITED, "too many connections ("
                        + refused.replace('_', ' ') + "); close another one first");
                c.close(CloseCode.TOO_MANY_CONNECTIONS);
                return;
            }
            c.admitted = true;
            c.identity(who);
            if (c.authTimer >= 0) {
                vertx.cancelTimer(c.authTimer);
            }
            connections.authenticated();
            hub.subscribe(Hub.tenantTopic(who.tenantId()), c.tenantSubscriber());
        } else {
            c.identity(who);
        }
        scheduleExpiry(c, who);
        c.send(ServerFrames.authenticated(requestId, c.id(), who.userId(), who.tenantId(), who.scopes(),
                System.currentTimeMillis()));
    }

    /**
     * The connection's identity while its token is valid. Otherwise the request is refused and the connection
     * closed (4401), and the result is null.
     */
    Identity signedIn(ClientConnection c, String requestId) {
        Identity who = c.identity();
        if (who == null) {
            refuseUnauthenticated(c, requestId);
            return null;
        }
        if (who.expiresAt() != Long.MAX_VALUE && who.expiresAt() + leewayMs < System.currentTimeMillis()) {
            c.sendError(requestId, ErrorCode.UNAUTHORIZED, "token expired; authenticate again");
            c.close(CloseCode.TOKEN_EXPIRED);
            return null;
        }
        return who;
    }

    void refuseUnauthenticated(ClientConnection c, String requestId) {
        c.sendError(requestId, ErrorCode.UNAUTHORIZED, "authenticate first: send {\"type\":\"authenticate\",\"token\":…}");
        c.close(CloseCode.UNAUTHORIZED);
    }

    /**
     * Refuses the first frame of a connection that could not be decoded (an {@code authenticate} with a token over
     * its length limit, say), naming why, and closes it (4401).
     */
    void refuseUndecodable(ClientConnection c, String requestId, String why) {
        c.sendError(requestId, ErrorCode.UNAUTHORIZED, "not authenticated: " + why);
        c.close(CloseCode.UNAUTHORIZED);
    }

    /** Closes the connection (4401) when its token expires, unless a fresh {@code authenticate} replaced it. */
    private void scheduleExpiry(ClientConnection c, Identity who) {
        if (c.expiryTimer >= 0) {
            vertx.cancelTimer(c.expiryTimer);
            c.expiryTimer = -1;
        }
        if (who.expiresAt() == Long.MAX_VALUE) {
            return;
        }
        long delay = Math.max(1, who.expiresAt() + leewayMs - System.currentTimeMillis());
        c.expiryTimer = vertx.setTimer(delay, id -> {
            Identity current = c.identity();
            if (current != null && current.expiresAt() + leewayMs <= System.currentTimeMillis()) {
                metrics.limitHit("token_expired");
                c.sendError(null, ErrorCode.UNAUTHORIZED, "token expired; authenticate again with a fresh token");
                c.close(CloseCode.TOKEN_EXPIRED);
            }
        });
    }
}

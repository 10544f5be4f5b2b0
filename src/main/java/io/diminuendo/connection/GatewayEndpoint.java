package io.diminuendo.connection;

import java.util.concurrent.CompletionStage;
import java.util.function.Function;

import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.auth.Authenticator;
import io.diminuendo.auth.Identity;
import io.diminuendo.auth.InvalidTokenException;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.hub.Hub;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.ClientRequest;
import io.diminuendo.protocol.CloseCode;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.FrameDecoder;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.protocol.ServerFrames;
import io.diminuendo.session.SessionRegistry;
import io.diminuendo.session.SessionState;
import io.diminuendo.session.TurnService;
import io.diminuendo.stream.ReplayService;
import io.diminuendo.stream.Subscription;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.quarkus.websockets.next.OnBinaryMessage;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.OnClose;
import io.quarkus.websockets.next.OnError;
import io.quarkus.websockets.next.OnOpen;
import io.quarkus.websockets.next.OnPongMessage;
import io.quarkus.websockets.next.OnTextMessage;
import io.quarkus.websockets.next.UserData;
import io.quarkus.websockets.next.WebSocket;
import io.quarkus.websockets.next.WebSocketConnection;
import io.smallrye.common.annotation.NonBlocking;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

/**
 * The client endpoint {@code /ws} (PROTOCOL.md §1). A singleton shared by all connections: per-connection state
 * lives in a {@link ClientConnection}, kept in the connection's {@link WebSocketConnection#userData()}. Every callback runs on the connection's event loop and never blocks;
 * store work completes asynchronously and replies are sent from its completion.
 */
@WebSocket(path = "/ws")
public class GatewayEndpoint {
    private static final Logger LOG = Logger.getLogger(GatewayEndpoint.class);
    static final String MDC_CONNECTION_ID = "connectionId";
    static final String MDC_SESSION_ID = "sessionId";
    private static final UserData.TypedKey<ClientConnection> CLIENT = new UserData.TypedKey<>("diminuendo.client");

    private final ConnectionRegistry connections;
    private final Authenticator authenticator;
    private final SessionRegistry sessions;
    private final TurnService turns;
    private final ReplayService replay;
    private final Hub hub;
    private final GatewayMetrics metrics;
    private final Vertx vertx;
    private final FrameDecoder decoder;
    private final int maxFrameBytes;
    private final int outboundCapacity;
    private final long authTimeoutMs;
    private final GatewayConfig.Limits limits;
    private final long leewayMs;

    public GatewayEndpoint(ConnectionRegistry connections, Authenticator authenticator, SessionRegistry sessions,
            TurnService turns, ReplayService replay, Hub hub, GatewayMetrics metrics, Vertx vertx,
            GatewayConfig config, ObjectMapper mapper) {
        this.connections = connections;
        this.authenticator = authenticator;
        this.sessions = sessions;
        this.turns = turns;
        this.replay = replay;
        this.hub = hub;
        this.metrics = metrics;
        this.vertx = vertx;
        GatewayConfig.Limits limits = config.limits();
        this.decoder = new FrameDecoder(mapper,
                new FrameDecoder.Limits(limits.maxPromptChars(), limits.maxTitleChars(), limits.maxMetadataChars()));
        this.maxFrameBytes = limits.maxFrameBytes();
        this.outboundCapacity = limits.outboundQueue();
        this.authTimeoutMs = config.auth().timeout().toMillis();
        this.limits = limits;
        this.leewayMs = config.auth().leeway().toMillis();
    }

    @OnOpen
    @NonBlocking
    public void onOpen(WebSocketConnection ws) {
        ClientConnection c = new ClientConnection(ws, metrics, outboundCapacity);
        c.fillBucket(limits.frameBurst());
        ws.userData().put(CLIENT, c);
        connections.add(c);
        if (connections.isShuttingDown()) {
            c.close(CloseCode.SHUTTING_DOWN);
            return;
        }
        String header = ws.handshakeRequest().header("Authorization");
        if (header != null) {
            authenticate(c, null, Authenticator.bearer(header));
            return;
        }
        c.authTimer = vertx.setTimer(authTimeoutMs, id -> {
            if (c.identity() == null) {
                metrics.limitHit("auth_timeout");
                c.close(CloseCode.AUTH_TIMEOUT);
            }
        });
    }

    @OnClose
    @NonBlocking
    public void onClose(WebSocketConnection ws) {
        ClientConnection c = ws.userData().get(CLIENT);
        if (c == null || !connections.remove(c)) {
            return;
        }
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
        for (Subscription sub : c.subscriptions().values()) {
            detach(sub, null);
        }
        c.subscriptions().clear();
    }

    @OnBinaryMessage
    @NonBlocking
    public void onBinary(WebSocketConnection ws, Buffer data) {
        ClientConnection c = ws.userData().get(CLIENT);
        if (c == null || c.isClosing()) {
            return;
        }
        c.lastActivityNanos = System.nanoTime();
        if (c.identity() == null) {
            refuseUnauthenticated(c, null);
            return;
        }
        error(c, null, ErrorCode.BAD_REQUEST, "binary frames are not supported; send JSON text frames");
    }

    @OnPongMessage
    @NonBlocking
    public void onPong(WebSocketConnection ws, Buffer data) {
        ClientConnection c = ws.userData().get(CLIENT);
        if (c != null) {
            c.lastActivityNanos = System.nanoTime();
        }
    }

    /**
     * Vert.x reports a message over {@code quarkus.websockets-next.server.max-message-size} as an
     * {@link IllegalStateException} from its frame aggregator; without this handler websockets-next closes with
     * 1011. The protocol promises 1009 (PROTOCOL.md §1.2).
     */
    @OnError
    @NonBlocking
    public void onError(WebSocketConnection ws, IllegalStateException failure) {
        String message = failure.getMessage();
        boolean tooBig = message != null && message.contains("max message size");
        if (!tooBig) {
            LOG.errorf(failure, "connection %s failed", ws.id());
        }
        CloseCode why = tooBig ? CloseCode.FRAME_TOO_LARGE : CloseCode.INTERNAL_ERROR;
        ClientConnection c = ws.userData().get(CLIENT);
        if (c != null) {
            c.close(why);
        } else if (!ws.isClosed()) {
            ws.close(new CloseReason(why.code(), why.reason())).subscribe().with(ok -> {
            }, f -> LOG.debugf("close of %s failed: %s", ws.id(), f.getMessage()));
        }
    }

    /**
     * A frame Netty refused while decoding it (over {@code quarkus.websockets-next.server.max-frame-size}, unmasked,
     * bad opcode): Netty has already sent the close frame (1009 for an oversized frame) and closes the connection.
     * The client caused it, so it is not logged as an unhandled server error.
     */
    @OnError
    @NonBlocking
    public void onFrameViolation(WebSocketConnection ws, CorruptedWebSocketFrameException failure) {
        LOG.debugf("connection %s closed by the WebSocket decoder: %s", ws.id(), failure.getMessage());
    }

    @OnTextMessage
    @NonBlocking
    public void onText(WebSocketConnection ws, String text) {
        ClientConnection c = ws.userData().get(CLIENT);
        if (c == null || c.isClosing()) {
            return;
        }
        c.lastActivityNanos = System.nanoTime();
        int refused = c.takeFrameToken(limits.framesPerSecond(), limits.frameBurst());
        if (refused > 0) {
            metrics.limitHit("frame_rate");
            if (refused > limits.maxRejectedFrames()) {
                metrics.limitHit("frame_rate_close");
                c.close(CloseCode.TOO_MANY_FRAMES);
            } else if (refused == 1) {
                error(c, null, ErrorCode.RATE_LIMITED, "more than " + limits.framesPerSecond()
                        + " frames per second; frames are dropped until the rate falls");
            }
            return;
        }
        if (exceedsLimit(text)) {
            metrics.limitHit("frame_size");
            error(c, null, ErrorCode.TOO_LARGE, "frame exceeds " + maxFrameBytes + " bytes");
            return;
        }
        ClientRequest request;
        try {
            request = decoder.decode(text);
        } catch (FrameDecoder.DecodeException e) {
            if (c.identity() == null) {
                refuseUnauthenticated(c, e.id());
            } else {
                error(c, e.id(), e.code(), e.getMessage());
            }
            return;
        }
        if (request instanceof ClientRequest.Authenticate a) {
            authenticate(c, a.id(), a.token());
            return;
        }
        Identity who = c.identity();
        if (who == null) {
            refuseUnauthenticated(c, request.id());
            return;
        }
        if (who.expiresAt() != Long.MAX_VALUE && who.expiresAt() + leewayMs < System.currentTimeMillis()) {
            error(c, request.id(), ErrorCode.UNAUTHORIZED, "token expired; authenticate again");
            c.close(CloseCode.TOKEN_EXPIRED);
            return;
        }
        putLogIds(c, request);
        try {
            dispatch(c, who, request);
        } catch (RuntimeException e) {
            fail(c, request, e);
        } finally {
            clearLogIds();
        }
    }

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

    private void authenticate(ClientConnection c, String requestId, String token) {
        Identity who;
        try {
            who = authenticator.authenticate(token);
        } catch (InvalidTokenException e) {
            error(c, requestId, ErrorCode.UNAUTHORIZED, "authentication failed: " + e.getMessage());
            c.close(CloseCode.UNAUTHORIZED);
            return;
        }
        Identity previous = c.identity();
        if (previous != null && (!previous.userId().equals(who.userId()) || !previous.tenantId().equals(who.tenantId()))) {
            error(c, requestId, ErrorCode.FORBIDDEN, "re-authentication must keep the same user and tenant");
            return;
        }
        if (previous == null) {
            String refused = connections.admit(who, limits.maxConnectionsPerUser(), limits.maxConnectionsPerTenant());
            if (refused != null) {
                metrics.limitHit(refused);
                error(c, requestId, ErrorCode.RATE_LIMITED, "too many connections ("
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
                error(c, null, ErrorCode.UNAUTHORIZED, "token expired; authenticate again with a fresh token");
                c.close(CloseCode.TOKEN_EXPIRED);
            }
        });
    }

    private void refuseUnauthenticated(ClientConnection c, String requestId) {
        error(c, requestId, ErrorCode.UNAUTHORIZED, "authenticate first: send {\"type\":\"authenticate\",\"token\":…}");
        c.close(CloseCode.UNAUTHORIZED);
    }

    private void dispatch(ClientConnection c, Identity who, ClientRequest request) {
        String id = request.id();
        if (request instanceof ClientRequest.Ping) {
            c.send(ServerFrames.pong(id, System.currentTimeMillis()));
        } else if (request instanceof ClientRequest.CreateSession r) {
            reply(c, request, sessions.create(who, r.title(), r.metadataJson(), r.agent()),
                    json -> ServerFrames.withSession("session_created", id, json));
        } else if (request instanceof ClientRequest.ListSessions r) {
            SessionRegistry.Page page = sessions.list(who, r.limit(), r.cursor(), r.status());
            c.send(ServerFrames.sessions(id, page.items(), page.nextCursor()));
        } else if (request instanceof ClientRequest.GetSession r) {
            c.send(ServerFrames.withSession("session", id, sessions.get(who, r.sessionId()).toJson()));
        } else if (request instanceof ClientRequest.UpdateSession r) {
            reply(c, request, sessions.updateTitle(who, r.sessionId(), r.title()),
                    json -> ServerFrames.withSession("session_updated", id, json));
        } else if (request instanceof ClientRequest.ArchiveSession r) {
            reply(c, request, sessions.archive(who, r.sessionId()),
                    json -> ServerFrames.withSession("session_archived", id, json));
        } else if (request instanceof ClientRequest.DeleteSession r) {
            reply(c, request, sessions.delete(who, r.sessionId()), sid -> ServerFrames.sessionDeleted(id, sid));
        } else if (request instanceof ClientRequest.Subscribe r) {
            subscribe(c, who, r);
        } else if (request instanceof ClientRequest.Unsubscribe r) {
            sessions.get(who, r.sessionId());
            Subscription sub = c.subscriptions().remove(r.sessionId());
            if (sub != null) {
                detach(sub, "unsubscribed");
            }
            c.send(ServerFrames.unsubscribed(id, r.sessionId(), null));
        } else if (request instanceof ClientRequest.History r) {
            SessionState s = sessions.get(who, r.sessionId());
            reply(c, request, replay.history(s.stream(), r.afterSeq(), r.limit()),
                    page -> ServerFrames.history(id, r.sessionId(), page.frames(), page.lastSeq()));
        } else if (request instanceof ClientRequest.SendMessage r) {
            reply(c, request, turns.send(who, r.sessionId(), r.text(), r.clientMessageId()),
                    turnId -> ServerFrames.messageAccepted(id, r.sessionId(), turnId));
        } else if (request instanceof ClientRequest.CancelTurn r) {
            turns.cancel(who, r.sessionId(), turnId -> c.send(ServerFrames.cancelRequested(id, r.sessionId(), turnId)));
        } else if (request instanceof ClientRequest.PermissionDecision r) {
            turns.decide(who, r.sessionId(), r.requestId(), r.decision(),
                    () -> c.send(ServerFrames.permissionDecisionAccepted(id, r.sessionId(), r.requestId())));
        } else {
            throw new ProtocolException(ErrorCode.UNKNOWN_TYPE, "unsupported request " + request.getClass().getSimpleName());
        }
    }

    private void subscribe(ClientConnection c, Identity who, ClientRequest.Subscribe r) {
        SessionState s = sessions.get(who, r.sessionId());
        if (c.subscriptions().size() >= limits.maxSubscriptionsPerConnection()
                && !c.subscriptions().containsKey(r.sessionId())) {
            metrics.limitHit("subscriptions_per_connection");
            throw new ProtocolException(ErrorCode.RATE_LIMITED, "this connection already has "
                    + limits.maxSubscriptionsPerConnection() + " subscriptions; unsubscribe from one first");
        }
        Subscription previous = c.subscriptions().remove(r.sessionId());
        if (previous != null) {
            detach(previous, "replaced");
        }
        Subscription sub = new Subscription(r.sessionId(), c, r.id());
        c.subscriptions().put(r.sessionId(), sub);
        replay.subscribe(s.stream(), sub, r.afterSeq(),
                boundary -> ServerFrames.subscribed(r.id(), r.sessionId(), boundary, s.status(), s.epoch()));
    }

    /** Drops a subscription; with a {@code reason}, a subscribe still replaying is answered with it. */
    private void detach(Subscription sub, String reason) {
        hub.unsubscribe(Hub.sessionTopic(sub.sessionId()), sub);
        if (reason == null) {
            sub.close();
        } else {
            sub.closeAnswering(reason);
        }
    }

    private <T> void reply(ClientConnection c, ClientRequest request, CompletionStage<T> result,
            Function<T, String> frame) {
        result.whenComplete((value, failure) -> {
            if (failure == null) {
                c.send(frame.apply(value));
            } else {
                fail(c, request, failure);
            }
        });
    }

    private void fail(ClientConnection c, ClientRequest request, Throwable failure) {
        ProtocolException p = ProtocolException.from(failure);
        if (p.code() == ErrorCode.INTERNAL) {
            // may run on the writer thread when the failure completes a store future: set the ids there too
            putLogIds(c, request);
            try {
                LOG.error("request failed", failure);
            } finally {
                clearLogIds();
            }
        }
        error(c, request.id(), p.code(), p.getMessage());
    }

    /** Log context for whatever a request logs (prod JSON logs carry it under {@code mdc}); two map writes. */
    private static void putLogIds(ClientConnection c, ClientRequest request) {
        MDC.put(MDC_CONNECTION_ID, c.id());
        String sessionId = request.sessionId();
        if (sessionId != null) {
            MDC.put(MDC_SESSION_ID, sessionId);
        }
    }

    private static void clearLogIds() {
        MDC.remove(MDC_CONNECTION_ID);
        MDC.remove(MDC_SESSION_ID);
    }

    private void error(ClientConnection c, String id, ErrorCode code, String message) {
        metrics.error(code);
        c.send(ServerFrames.error(id, code, message));
    }
}

package io.diminuendo.connection;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.ClientRequest;
import io.diminuendo.protocol.CloseCode;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.FrameDecoder;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.OnBinaryMessage;
import io.quarkus.websockets.next.OnClose;
import io.quarkus.websockets.next.OnError;
import io.quarkus.websockets.next.OnOpen;
import io.quarkus.websockets.next.OnPongMessage;
import io.quarkus.websockets.next.OnTextMessage;
import io.quarkus.websockets.next.UserData;
import io.quarkus.websockets.next.WebSocket;
import io.quarkus.websockets.next.WebSocketConnection;
import io.smallrye.common.annotation.NonBlocking;
import io.vertx.core.buffer.Buffer;

/**
 * The client endpoint {@code /ws} (docs/protocol.md, "1. Client protocol (`/ws`)"). A singleton shared by all connections: per-connection state
 * lives in a {@link ClientConnection}, kept in the connection's {@link WebSocketConnection#userData()}. Each text
 * frame passes the {@link InboundLimits}, is decoded, and goes to the {@link RequestDispatcher}; the origin is
 * checked before the upgrade ({@link OriginCheck}). Every callback runs on the connection's event loop and never
 * blocks.
 */
@WebSocket(path = "/ws")
public class GatewayEndpoint {
    private static final Logger LOG = Logger.getLogger(GatewayEndpoint.class);
    private static final UserData.TypedKey<ClientConnection> CLIENT = new UserData.TypedKey<>("diminuendo.client");

    private final ConnectionRegistry connections;
    private final Authentication authentication;
    private final InboundLimits inbound;
    private final RequestDispatcher dispatcher;
    private final GatewayMetrics metrics;
    private final FrameDecoder decoder;
    private final int outboundCapacity;
    private final int readsPerConnection;
    private final long outboundBytes;
    private final OutboundBytes outboundTotal;

    public GatewayEndpoint(ConnectionRegistry connections, Authentication authentication, InboundLimits inbound,
            RequestDispatcher dispatcher, GatewayMetrics metrics, GatewayConfig config, ObjectMapper mapper,
            OutboundBytes outboundTotal) {
        this.connections = connections;
        this.authentication = authentication;
        this.inbound = inbound;
        this.dispatcher = dispatcher;
        this.metrics = metrics;
        GatewayConfig.Limits limits = config.limits();
        this.decoder = new FrameDecoder(mapper,
                new FrameDecoder.Limits(limits.maxPromptChars(), limits.maxTitleChars(), limits.maxMetadataChars()));
        this.outboundCapacity = limits.outboundQueue();
        this.readsPerConnection = limits.readsPerConnection();
        this.outboundBytes = limits.outboundBytes();
        this.outboundTotal = outboundTotal;
    }

    @OnOpen
    @NonBlocking
    public void onOpen(WebSocketConnection ws) {
        ClientConnection c = new ClientConnection(ws, metrics, outboundCapacity, outboundBytes, outboundTotal,
                readsPerConnection);
        inbound.opened(c);
        FrameViolations.install(c, c.pipeline());
        ws.userData().put(CLIENT, c);
        connections.add(c);
        if (connections.isShuttingDown()) {
            c.close(CloseCode.SHUTTING_DOWN);
            return;
        }
        authentication.opened(c, ws.handshakeRequest().header("Authorization"));
    }

    @OnClose
    @NonBlocking
    public void onClose(WebSocketConnection ws) {
        ClientConnection c = ws.userData().get(CLIENT);
        if (c == null || !connections.remove(c)) {
            return;
        }
        authentication.closed(c);
        dispatcher.closed(c);
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
            authentication.refuseUnauthenticated(c, null);
            return;
        }
        c.sendError(null, ErrorCode.BAD_REQUEST, "binary frames are not supported; send JSON text frames");
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
     * 1011. The protocol promises 1009 (docs/protocol.md, "Errors").
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
     * A frame Netty refused while decoding it, on a connection whose pipeline {@link FrameViolations} could not reach
     * (see {@link Outbox}): Vert.x closes the connection. The client caused it, so it is not logged as an unhandled
     * server error.
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
        if (!inbound.admit(c, text)) {
            return;
        }
        ClientRequest request;
        try {
            request = decoder.decode(text);
        } catch (FrameDecoder.DecodeException e) {
            if (c.identity() == null) {
                authentication.refuseUndecodable(c, e.id(), e.getMessage());
            } else {
                c.sendError(e.id(), e.code(), e.getMessage());
            }
            return;
        }
        dispatcher.dispatch(c, request);
    }
}

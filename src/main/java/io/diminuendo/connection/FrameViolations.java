package io.diminuendo.connection;

import org.jboss.logging.Logger;

import io.diminuendo.protocol.CloseCode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;

/**
 * Ends a WebSocket whose client broke RFC 6455 with a close frame that says why, and not with a bare TCP close: 1009
 * for a frame over {@code quarkus.websockets-next.server.max-frame-size} (Netty refuses it by its header, before
 * reading the payload), 1007 for a text message that is not valid UTF-8 (checked by Netty's {@link Utf8FrameValidator},
 * across fragments), 1002 for other protocol errors (an RSV bit without an extension, an unmasked frame, ...). A
 * whole text message in one frame that is plain ASCII, as nearly every request is, skips the check: telling takes
 * eight bytes at a time, the check one at a time (docs/benchmarks.md, "Inbound frames").
 * <p>
 * Netty reports each as a {@link CorruptedWebSocketFrameException}; Vert.x, which told Netty not to close on its own,
 * closes the TCP connection at once when that exception reaches it, with no close frame, and with the rest of an
 * oversized frame still unread, so the client is sent a reset that can destroy anything in flight to it. This handler,
 * placed before Vert.x's, takes the exception instead and closes the connection like any other gateway close
 * ({@link ClientConnection#close}), once the requests decoded before the violation have been answered: frames already
 * queued, then the close frame, then Vert.x waits for the client's close frame (at most its closing timeout) while the
 * decoder reads and drops what the client still sends. Data frames arriving after the violation are dropped.
 */
final class FrameViolations extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger(FrameViolations.class);
    /** Vert.x's name for its own handler, the last one of a connection's pipeline. */
    private static final String VERTX_HANDLER = "handler";

    private final ClientConnection client;
    /** Netty's check, called for every data frame but the ASCII text messages of one frame; it passes them on. */
    private final Utf8FrameValidator utf8 = new Utf8FrameValidator(false);
    /** A fragmented message has begun and its final fragment not yet arrived. */
    private boolean fragmented;
    private boolean violated;

    FrameViolations(ClientConnection client) {
        this.client = client;
    }

    /** Puts this handler in front of Vert.x's, once the connection is a WebSocket. */
    static void install(ClientConnection client, ChannelPipeline pipeline) {
        if (pipeline == null || pipeline.context(VERTX_HANDLER) == null) {
            return;
        }
        pipeline.addBefore(VERTX_HANDLER, "diminuendo-frame-violations", new FrameViolations(client));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (violated && !(msg instanceof CloseWebSocketFrame)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof TextWebSocketFrame text && text.isFinalFragment() && !fragmented && isAscii(text.content())) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (msg instanceof TextWebSocketFrame || msg instanceof BinaryWebSocketFrame
                || msg instanceof ContinuationWebSocketFrame) {
            fragmented = !((WebSocketFrame) msg).isFinalFragment();
        }
        // a violation is thrown from here and comes back to exceptionCaught
        utf8.channelRead(ctx, msg);
    }

    /** True when no byte has its high bit set; eight bytes at a time. */
    static boolean isAscii(ByteBuf bytes) {
        int i = bytes.readerIndex();
        int end = bytes.writerIndex();
        for (; i + Long.BYTES <= end; i += Long.BYTES) {
            if ((bytes.getLong(i) & 0x8080808080808080L) != 0) {
                return false;
            }
        }
        for (; i < end; i++) {
            if (bytes.getByte(i) < 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof CorruptedWebSocketFrameException violation)) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        LOG.debugf("connection %s broke the WebSocket protocol: %s", client.id(), violation.getMessage());
        if (violated) {
            return;
        }
        violated = true;
        CloseCode why = switch (violation.closeStatus().code()) {
            case 1009 -> CloseCode.FRAME_TOO_LARGE;
            case 1007 -> CloseCode.INVALID_UTF8;
            default -> CloseCode.PROTOCOL_ERROR;
        };
        // behind the frames decoded before the violation, which websockets-next hands to the endpoint as tasks of
        // this event loop: they are answered first, then the close goes out
        ctx.executor().execute(() -> client.close(why));
    }
}

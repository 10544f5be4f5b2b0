package io.diminuendo.connection;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateHandler;

/**
 * The outbox writes below the idle-timeout handler, and through everything else between it and the socket: the
 * frames still reach the wire, TLS and encoders included, without a promise and a listener each.
 */
class OutboxWriteContextTest {
    private EmbeddedChannel channel;

    @AfterEach
    void close() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    /** Counts the writes it sees and passes them on, like the TLS handler or an encoder that does not touch them. */
    private static final class Counting extends ChannelOutboundHandlerAdapter {
        final AtomicInteger writes = new AtomicInteger();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            writes.incrementAndGet();
            ctx.write(msg, promise);
        }
    }

    /** Counts the writes that reach Vert.x's idle-timeout handler. */
    private static final class CountingIdle extends IdleStateHandler {
        final AtomicInteger writes = new AtomicInteger();

        CountingIdle() {
            super(0, 0, 30, TimeUnit.MINUTES);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            writes.incrementAndGet();
            super.write(ctx, msg, promise);
        }
    }

    @Test
    void framesEnterThePipelineBelowTheIdleHandlerAndStillReachTheSocket() {
        Counting below = new Counting();
        CountingIdle idle = new CountingIdle();
        channel = new EmbeddedChannel();
        channel.pipeline().addLast("ssl", below).addLast("idle", idle).addLast("handler", new ChannelDuplexHandler());

        ChannelHandlerContext ctx = Outbox.writeContext(channel.pipeline().context("handler"));
        assertThat(ctx.name()).isEqualTo("idle");
        ByteBuf frame = Unpooled.wrappedBuffer(new byte[] {(byte) 0x81, 1, 'x'});
        ctx.write(frame, channel.voidPromise());
        ctx.flush();

        assertThat(idle.writes).as("writes seen by the idle handler").hasValue(0);
        assertThat(below.writes).as("writes seen by what lies between it and the socket").hasValue(1);
        ByteBuf out = channel.readOutbound();
        try {
            assertThat(out).isSameAs(frame);
        } finally {
            out.release();
        }
    }

    @Test
    void withoutAnIdleHandlerBelowItTheConnectionsOwnHandlerWrites() {
        channel = new EmbeddedChannel();
        channel.pipeline().addLast("handler", new ChannelDuplexHandler());
        ChannelHandlerContext handler = channel.pipeline().context("handler");
        assertThat(Outbox.writeContext(handler)).isSameAs(handler);

        channel.pipeline().addLast("idle", new CountingIdle());
        assertThat(Outbox.writeContext(handler)).as("an idle handler above the connection's handler is not skipped")
                .isSameAs(handler);
    }
}

package io.diminuendo.connection;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Field;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.ObservesAsync;

import org.jboss.logging.Logger;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.quarkus.vertx.http.HttpServerOptionsCustomizer;
import io.quarkus.vertx.http.HttpServerStart;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.HttpServerImpl;
import io.vertx.core.impl.VertxInternal;
import io.vertx.core.net.impl.ServerID;
import io.vertx.core.net.impl.TCPServerBase;

/**
 * The HTTP server's header-read timeout ({@code diminuendo.limits.header-timeout}): a connection whose request
 * headers are not complete within the timeout is closed ({@code diminuendo_limit_hits_total{limit="header_timeout"}}).
 * The clock starts when the connection is accepted and, on a kept-alive connection, at the first byte of each further
 * request; it stops when the request's headers are complete. A client that opens sockets and sends nothing, or
 * dribbles its headers a byte at a time (slowloris), so holds a connection for at most that long. A kept-alive
 * connection idle between requests is left to {@code quarkus.http.idle-timeout}, a request body to the application,
 * and an upgraded WebSocket to its own pings and idle timeout.
 * <p>
 * Vert.x has no such setting and Quarkus no hook on the connections it accepts, so once the HTTP server listens a
 * handler is put in front of the listening socket's acceptor, which Vert.x keeps private (reached by reflection). It
 * gives every accepted connection a {@link Deadline} at the head of its pipeline and a {@link RequestWatch} behind the
 * HTTP decoder. If the listening socket cannot be reached (a Vert.x upgrade), start-up logs an error and
 * HeaderTimeoutTest fails. Cleartext HTTP/2 is turned off, so that every connection is HTTP/1.1 from its first byte
 * (browsers speak HTTP/2 only over TLS, and an h2c connection would escape the timeout); a connection with TLS
 * terminated by the gateway itself is not watched (TLS is terminated in front of the gateway in {@code deploy/}).
 */
@ApplicationScoped
@RegisterForReflection(targets = TCPServerBase.class, fields = true)
public class HeaderTimeout implements HttpServerOptionsCustomizer {
    private static final Logger LOG = Logger.getLogger(HeaderTimeout.class);
    static final String ACCEPTOR = "diminuendo-header-timeout";
    private static final String DEADLINE = "diminuendo-header-deadline";
    private static final String WATCH = "diminuendo-request-watch";
    /** Vert.x's name for the HTTP/1.x request decoder; a WebSocket upgrade replaces it. */
    private static final String HTTP_DECODER = "httpDecoder";
    private static final MethodHandle BOUND_CHANNEL = boundChannel();

    private final long timeoutNanos;
    private final GatewayMetrics metrics;
    private final Vertx vertx;

    public HeaderTimeout(GatewayConfig config, GatewayMetrics metrics, Vertx vertx) {
        this.timeoutNanos = config.limits().headerTimeout().toNanos();
        this.metrics = metrics;
        this.vertx = vertx;
    }

    @Override
    public void customizeHttpServer(HttpServerOptions options) {
        options.setHttp2ClearTextEnabled(false);
    }

    /** Puts the acceptor handler on the listening socket of the server that has just started (once per port). */
    void started(@ObservesAsync HttpServerStart started) {
        int port = started.options().getPort();
        Map<ServerID, HttpServerImpl> servers = ((VertxInternal) vertx).sharedHttpServers();
        Channel listening = null;
        synchronized (servers) {
            for (Map.Entry<ServerID, HttpServerImpl> e : servers.entrySet()) {
                if (e.getKey().port == port) {
                    listening = listeningChannel(e.getValue());
                }
            }
        }
        if (listening == null) {
            LOG.errorf("the HTTP header timeout is not enforced: the listening socket of port %d was not found", port);
            return;
        }
        Acceptor acceptor = new Acceptor(this);
        if (listening.pipeline().get(ACCEPTOR) == null) {
            listening.pipeline().addFirst(ACCEPTOR, acceptor);
        } else {
            // a live reload in dev mode keeps the server: the new application's handler replaces the old one
            listening.pipeline().replace(ACCEPTOR, ACCEPTOR, acceptor);
        }
    }

    private static Channel listeningChannel(HttpServerImpl server) {
        if (BOUND_CHANNEL == null) {
            return null;
        }
        try {
            Future<?> bound = (Future<?>) BOUND_CHANNEL.invoke((TCPServerBase) server);
            return bound != null && bound.result() instanceof Channel c ? c : null;
        } catch (Throwable e) {
            LOG.debugf("listening socket of %s not readable: %s", server, e);
            return null;
        }
    }

    private static MethodHandle boundChannel() {
        try {
            Field f = TCPServerBase.class.getDeclaredField("bindFuture");
            f.setAccessible(true);
            return MethodHandles.lookup().unreflectGetter(f);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debugf("TCPServerBase.bindFuture not accessible: %s", e);
            return null;
        }
    }

    /** On the listening socket: gives each accepted connection its {@link Deadline}, before Vert.x sets it up. */
    @ChannelHandler.Sharable
    static final class Acceptor extends ChannelInboundHandlerAdapter {
        private final HeaderTimeout owner;

        Acceptor(HeaderTimeout owner) {
            this.owner = owner;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Channel accepted) {
                accepted.pipeline().addFirst(DEADLINE, new Deadline(owner, System.nanoTime()));
            }
            ctx.fireChannelRead(msg);
        }
    }

    /**
     * One connection's clock, first in its pipeline, so it sees every read before it is decoded. Runs on the
     * connection's event loop only. One timer at a time: it is not rescheduled for each request but, when it fires
     * while headers are still awaited, for the time left.
     */
    static final class Deadline extends ChannelInboundHandlerAdapter {
        private enum State {
            /** Waiting for the end of a request's headers; the clock runs from {@code startedAt}. */
            HEADERS,
            /** A request's headers arrived; its body (if any) is not timed here. */
            MESSAGE,
            /** Between requests on a kept-alive connection: the next byte starts the clock. */
            IDLE
        }

        private final HeaderTimeout owner;
        private State state = State.HEADERS;
        private long startedAt;
        private ScheduledFuture<?> timer;
        private ChannelHandlerContext ctx;

        Deadline(HeaderTimeout owner, long acceptedAt) {
            this.owner = owner;
            this.startedAt = acceptedAt;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            this.ctx = ctx;
            // Vert.x has set the connection up by now (its initializer runs when the connection is registered)
            if (ctx.pipeline().get(SslHandler.class) != null || ctx.pipeline().context(HTTP_DECODER) == null) {
                ctx.pipeline().remove(this);
            } else {
                ctx.pipeline().addAfter(HTTP_DECODER, WATCH, new RequestWatch(this));
                schedule(owner.timeoutNanos - (System.nanoTime() - startedAt));
            }
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (state == State.IDLE) {
                if (ctx.pipeline().context(HTTP_DECODER) == null) {
                    // switched protocols (a WebSocket): nothing more to time
                    stop();
                } else {
                    state = State.HEADERS;
                    startedAt = System.nanoTime();
                    if (timer == null) {
                        schedule(owner.timeoutNanos);
                    }
                }
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
            ctx.fireChannelInactive();
        }

        void headersComplete() {
            state = State.MESSAGE;
        }

        void messageComplete() {
            state = State.IDLE;
        }

        private void schedule(long delayNanos) {
            timer = ctx.executor().schedule(this::check, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        }

        private void check() {
            timer = null;
            if (state != State.HEADERS) {
                return;
            }
            long left = owner.timeoutNanos - (System.nanoTime() - startedAt);
            if (left > 0) {
                schedule(left);
                return;
            }
            owner.metrics.limitHit(GatewayMetrics.HEADER_TIMEOUT);
            ctx.channel().close();
        }

        private void stop() {
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
            ChannelHandler watch = ctx.pipeline().get(WATCH);
            if (watch != null) {
                ctx.pipeline().remove(watch);
            }
            ctx.pipeline().remove(this);
        }
    }

    /** Behind the HTTP decoder: tells the {@link Deadline} when a request's headers, and then the whole request, arrived. */
    static final class RequestWatch extends ChannelInboundHandlerAdapter {
        private final Deadline deadline;

        RequestWatch(Deadline deadline) {
            this.deadline = deadline;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest) {
                deadline.headersComplete();
            }
            if (msg instanceof LastHttpContent) {
                deadline.messageComplete();
            }
            ctx.fireChannelRead(msg);
        }
    }
}

package io.diminuendo.cluster;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.jboss.logging.Logger;

import io.diminuendo.metrics.GatewayMetrics;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.impl.Headers;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * NATS core between pods. Every pod subscribes to {@code <prefix>.x.>}, where session events
 * ({@code x.s.<sessionId>}) and session changes ({@code x.t.<hex tenant>}) are published, on one subscription so
 * that one pod's publications arrive in the order it made them; commands to a pod go to {@code <prefix>.cmd.<pod>}
 * as NATS request/reply. The connection does not echo a pod's own publications back to it. A session's events of one
 * committed batch travel together in one message (see {@link #publishEvents}), each with the frame clients receive,
 * encoded once by the pod that sequenced it.
 */
final class NatsBroker implements Broker {
    private static final Logger LOG = Logger.getLogger(NatsBroker.class);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);
    private static final HexFormat HEX = HexFormat.of();

    private final String url;
    private final String prefix;
    private final String pod;
    private final GatewayMetrics metrics;
    private Connection nats;
    private ExecutorService threads;

    NatsBroker(String url, String prefix, String pod, GatewayMetrics metrics) {
        this.url = url;
        this.prefix = prefix;
        this.pod = pod;
        this.metrics = metrics;
    }

    @Override
    public void start(Handler handler, CommandHandler commands) {
        // Netty's thread factory: the dispatcher threads that fan received events out to local connections are
        // FastThreadLocalThreads, so the outbox encodes each frame once for all of them, as on an event loop
        threads = Executors.newCachedThreadPool(new DefaultThreadFactory("diminuendo-nats", true));
        Options options = new Options.Builder().servers(url.split(",")).connectionName("diminuendo-" + pod)
                .noEcho().maxReconnects(-1).reconnectWait(Duration.ofMillis(500))
                .connectionTimeout(Duration.ofSeconds(5)).executor(threads).build();
        try {
            nats = Nats.connect(options);
        } catch (Exception e) {
            throw new IllegalStateException("diminuendo.bus.url: cannot connect to NATS at " + url + ": " + e.getMessage(), e);
        }
        Dispatcher broadcast = nats.createDispatcher(m -> receive(m, handler));
        broadcast.subscribe(prefix + ".x.>");
        Dispatcher routed = nats.createDispatcher(m -> answer(m, commands));
        routed.subscribe(prefix + ".cmd." + pod);
        try {
            nats.flush(Duration.ofSeconds(5));
        } catch (Exception e) {
            throw new IllegalStateException("NATS at " + url + " did not confirm the subscriptions", e);
        }
        LOG.infof("bus ready: NATS %s, subjects %s.*, pod %s", url, prefix, pod);
    }

    private void receive(Message m, Handler handler) {
        Headers h = m.getHeaders();
        try {
            if ("e".equals(h.getFirst("t"))) {
                String sessionId = h.getFirst("sid");
                String epoch = h.getFirst("epoch");
                String from = h.getFirst("pod");
                DataInputStream in = new DataInputStream(new ByteArrayInputStream(m.getData()));
                int count = Integer.parseInt(h.getFirst("n"));
                for (int i = 0; i < count; i++) {
                    long seq = in.readLong();
                    String kind = new String(in.readNBytes(in.readUnsignedShort()), StandardCharsets.US_ASCII);
                    int turnLength = in.readInt();
                    String turn = turnLength < 0 ? null : new String(in.readNBytes(turnLength), StandardCharsets.UTF_8);
                    String frame = new String(in.readNBytes(in.readInt()), StandardCharsets.UTF_8);
                    metrics.busReceived.increment();
                    try {
                        handler.event(sessionId, seq, kind, turn, epoch, from, frame);
                    } catch (RuntimeException e) {
                        // the events after it still apply; a subscriber that misses this one catches it up from the store
                        LOG.errorf(e, "event %d of session %s from pod %s could not be applied", seq, sessionId, from);
                    }
                }
            } else {
                metrics.busReceived.increment();
                handler.sessionChanged(h.getFirst("tenant"), h.getFirst("sid"), h.getFirst("change"),
                        new String(m.getData(), StandardCharsets.UTF_8));
            }
        } catch (IOException | RuntimeException e) {
            LOG.errorf(e, "a publication from pod %s on %s could not be applied", h.getFirst("pod"), m.getSubject());
        }
    }

    private void answer(Message m, CommandHandler commands) {
        String reply;
        try {
            reply = commands.handle(new String(m.getData(), StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            LOG.errorf(e, "routed command failed");
            reply = "{\"code\":\"internal\",\"message\":\"internal error\"}";
        }
        if (m.getReplyTo() != null) {
            nats.publish(m.getReplyTo(), reply.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Override
    public boolean clustered() {
        return true;
    }

    @Override
    public boolean connected() {
        return nats != null && nats.getStatus() == Connection.Status.CONNECTED;
    }

    /**
     * One message per run of events (split before it would pass half the server's payload limit): headers name the
     * session, its epoch and this pod; the payload holds the events back to back, each as its seq (8 bytes), its kind
     * (2-byte length, ASCII), its turn (4-byte length, -1 for none, UTF-8) and its frame (4-byte length, UTF-8).
     */
    @Override
    public void publishEvents(String sessionId, String epoch, List<Event> events) {
        int limit = (int) Math.max(64 * 1024, nats.getMaxPayload() / 2);
        ByteArrayOutputStream payload = new ByteArrayOutputStream(4096);
        DataOutputStream out = new DataOutputStream(payload);
        int inMessage = 0;
        try {
            for (Event e : events) {
                byte[] frame = e.frame().getBytes(StandardCharsets.UTF_8);
                if (inMessage > 0 && payload.size() + frame.length + 64 > limit) {
                    send(sessionId, epoch, inMessage, payload.toByteArray());
                    payload.reset();
                    inMessage = 0;
                }
                out.writeLong(e.seq());
                byte[] kind = e.kind().getBytes(StandardCharsets.US_ASCII);
                out.writeShort(kind.length);
                out.write(kind);
                if (e.turnId() == null) {
                    out.writeInt(-1);
                } else {
                    byte[] turn = e.turnId().getBytes(StandardCharsets.UTF_8);
                    out.writeInt(turn.length);
                    out.write(turn);
                }
                out.writeInt(frame.length);
                out.write(frame);
                inMessage++;
            }
            if (inMessage > 0) {
                send(sessionId, epoch, inMessage, payload.toByteArray());
            }
        } catch (IOException impossible) {
            throw new UncheckedIOException(impossible);
        }
    }

    private void send(String sessionId, String epoch, int count, byte[] payload) {
        Headers h = new Headers().put("t", "e").put("sid", sessionId).put("epoch", epoch).put("pod", pod)
                .put("n", Integer.toString(count));
        nats.publish(prefix + ".x.s." + sessionId, h, payload);
        metrics.busPublished.increment(count);
    }

    @Override
    public void publishSessionChange(String tenantId, String sessionId, String change, String frame) {
        Headers h = new Headers().put("t", "c").put("tenant", tenantId).put("sid", sessionId).put("change", change)
                .put("pod", pod);
        nats.publish(prefix + ".x.t." + HEX.formatHex(tenantId.getBytes(StandardCharsets.UTF_8)), h,
                frame.getBytes(StandardCharsets.UTF_8));
        metrics.busPublished.increment();
    }

    @Override
    public CompletionStage<String> request(String target, String command) {
        metrics.routedCommands.increment();
        CompletableFuture<Message> reply = nats.requestWithTimeout(prefix + ".cmd." + target,
                command.getBytes(StandardCharsets.UTF_8), REQUEST_TIMEOUT);
        return reply.thenApply(m -> new String(m.getData(), StandardCharsets.UTF_8));
    }

    @Override
    public String pod() {
        return pod;
    }

    @Override
    public void stop() {
        if (nats != null) {
            try {
                nats.flush(Duration.ofSeconds(2));
                nats.close();
            } catch (Exception e) {
                LOG.debugf("closing NATS: %s", e.getMessage());
            }
        }
        if (threads != null) {
            threads.shutdown();
        }
    }
}

package io.diminuendo.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import io.diminuendo.connection.OutboxSink;
import io.diminuendo.hub.Hub;
import io.diminuendo.hub.LocalHub;
import io.diminuendo.hub.Subscriber;
import io.diminuendo.protocol.EventKind;
import io.diminuendo.protocol.ServerFrames;
import io.diminuendo.stream.LiveSubscriptions;
import io.diminuendo.upstream.EventMapper;

/**
 * {@link LocalHub#publish} of one encoded event frame to a session topic with 1, 100 or 1000 subscribers, on
 * one thread; the score is publishes/s (deliveries/s = score × subscribers).
 * <ul>
 * <li>{@code counter}: each subscriber only counts, so the score is the hub's own cost;</li>
 * <li>{@code outbox}: each subscriber is a live {@code stream.Subscription} (the real per-subscriber monitor and
 * seq check) in front of {@link OutboxSink}, which does what {@code ClientConnection.send} and the connection's
 * outbox do on the publishing event loop: count the frame against the outbound capacity (8192, the default),
 * take the wire frame encoded once for all subscribers, queue it and flag the drain. The queue is emptied in
 * place when full (standing in for the socket writer), so no connection is ever closed.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(2)
public class HubBenchmark {
    private static final String SESSION_ID = "3f2b8c1e-9a4d-4e7b-b1c2-5d6e7f8a9b0c";
    private static final int OUTBOUND_CAPACITY = 8192;

    @Param({ "1", "100", "1000" })
    public int subscribers;

    @Param({ "counter", "outbox" })
    public String subscriber;

    private final LocalHub hub = new LocalHub();
    private final String topic = Hub.sessionTopic(SESSION_ID);
    /** Two equal frames that are different strings: like every new event, each publish is encoded once. */
    private final String[] frames = new String[2];
    private long seq;

    @Setup(Level.Trial)
    public void setUp() {
        for (int i = 0; i < frames.length; i++) {
            frames[i] = ServerFrames.event(SESSION_ID, 1, "8d7c6b5a-4f3e-4d2c-9b1a-0f1e2d3c4b5a", EventKind.TEXT_DELTA,
                    1_760_000_000_000L, EventMapper.textData("the failing "));
        }
        for (int i = 0; i < subscribers; i++) {
            hub.subscribe(topic, "counter".equals(subscriber) ? new Counting()
                    : LiveSubscriptions.live(SESSION_ID, new OutboxSink(OUTBOUND_CAPACITY)));
        }
    }

    @Benchmark
    public int publish() {
        ++seq;
        return hub.publish(topic, frames[(int) (seq & 1)], seq);
    }

    static final class Counting implements Subscriber {
        long delivered;

        @Override
        public void deliver(String frame, long seq) {
            delivered++;
        }
    }
}

package io.diminuendo.bench;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

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

import io.diminuendo.hub.Hub;
import io.diminuendo.hub.LocalHub;
import io.diminuendo.hub.Subscriber;
import io.diminuendo.protocol.ServerFrames;
import io.diminuendo.stream.FrameSink;
import io.diminuendo.stream.LiveSubscriptions;
import io.diminuendo.upstream.EventMapper;

/**
 * {@link LocalHub#publish} of one encoded event frame to a session topic with 1, 100 or 1000 subscribers, on
 * one thread; the score is publishes/s (deliveries/s = score × subscribers).
 * <ul>
 * <li>{@code counter}: each subscriber only counts, so the score is the hub's own cost;</li>
 * <li>{@code queue}: each subscriber is a live {@code stream.Subscription} (the real per-subscriber monitor and
 * seq check) in front of a sink that does what {@code ClientConnection.send} does before handing the frame to
 * the socket: count it against the outbound capacity (8192, the default) and append it to a bounded queue.
 * A full queue is emptied in place (standing in for the socket writer), so no connection is ever closed.</li>
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

    @Param({ "counter", "queue" })
    public String subscriber;

    private final LocalHub hub = new LocalHub();
    private final String topic = Hub.sessionTopic(SESSION_ID);
    private String frame;
    private long seq;

    @Setup(Level.Trial)
    public void setUp() {
        frame = ServerFrames.event(SESSION_ID, 1, "8d7c6b5a-4f3e-4d2c-9b1a-0f1e2d3c4b5a", "text_delta",
                1_760_000_000_000L, EventMapper.textData("the failing "));
        for (int i = 0; i < subscribers; i++) {
            hub.subscribe(topic, "counter".equals(subscriber) ? new Counting()
                    : LiveSubscriptions.live(SESSION_ID, new QueueSink()));
        }
    }

    @Benchmark
    public int publish() {
        return hub.publish(topic, frame, ++seq);
    }

    static final class Counting implements Subscriber {
        long delivered;

        @Override
        public void deliver(String frame, long seq) {
            delivered++;
        }
    }

    /** The admission part of {@code ClientConnection.send}, with a bounded queue where the socket would be. */
    static final class QueueSink implements FrameSink {
        private final AtomicInteger pending = new AtomicInteger();
        private final ArrayBlockingQueue<String> queue = new ArrayBlockingQueue<>(OUTBOUND_CAPACITY);
        private volatile boolean closing;

        @Override
        public boolean send(String frame) {
            if (closing) {
                return false;
            }
            if (pending.incrementAndGet() > OUTBOUND_CAPACITY) {
                pending.decrementAndGet();
                overflow();
                return false;
            }
            if (!queue.offer(frame)) {
                throw new IllegalStateException("queue full below its capacity");
            }
            if (pending.get() == OUTBOUND_CAPACITY) {
                queue.clear();
                pending.set(0);
            }
            return true;
        }

        @Override
        public void overflow() {
            closing = true;
            throw new IllegalStateException("benchmark sink overflowed");
        }

        @Override
        public int capacity() {
            return OUTBOUND_CAPACITY;
        }

        @Override
        public boolean awaitRoom(long timeoutMillis) {
            return true;
        }
    }
}

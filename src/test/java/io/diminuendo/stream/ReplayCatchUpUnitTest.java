package io.diminuendo.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.diminuendo.hub.LocalHub;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.EventKind;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.protocol.ServerFrames;
import io.diminuendo.store.StoredEvent;
import io.diminuendo.support.MemoryStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The replay's catch-up from the store without a server: the real {@link SessionStream}, {@link LocalHub},
 * {@link Subscription} and {@link ReplayService} over an in-memory store and a sink that plays a connection's
 * bounded outbound queue (capacity 64, as in the slow-consumer tests) drained by a reader thread at a chosen pace.
 */
class ReplayCatchUpUnitTest {
    private static final Pattern SEQ = Pattern.compile("\"seq\":(\\d+)");
    private static final Pattern LAST_SEQ = Pattern.compile("\"lastSeq\":(\\d+)");
    private static final int CAPACITY = 64;
    private static final String SID = "s1";

    private final ExecutorService workers = Executors.newCachedThreadPool();
    private final MemoryStore store = new MemoryStore();
    private final GatewayMetrics metrics = new GatewayMetrics(new SimpleMeterRegistry());
    private final ReadGate gate = new ReadGate(4, TimeUnit.SECONDS.toNanos(5), metrics);
    private final SessionStream stream = new SessionStream(SID, "t", 0, new LocalHub(), store, metrics, new Object());
    private final AtomicBoolean publishing = new AtomicBoolean(true);

    @AfterEach
    void stop() {
        publishing.set(false);
        workers.shutdownNow();
    }

    @Test
    void aSubscriptionBehindTheLiveStreamDropsItsBufferAndCatchesUpFromTheStore() {
        QueueSink sink = new QueueSink(CAPACITY);
        Subscription sub = new Subscription(SID, sink, "r1");
        int page = Subscription.pageSize(CAPACITY);
        assertThat(page).isEqualTo(16);
        sub.deliver("{\"ev\":11}", 11);

        for (long seq = 12; seq <= 10 + page; seq++) {
            sub.deliver("{\"ev\":" + seq + "}", seq);
        }
        // one more than a page: the buffered events go, the subscription is behind and only notes the newest seq
        for (long seq = 11 + page; seq <= 30; seq++) {
            sub.deliver("{\"ev\":" + seq + "}", seq);
        }
        assertThat(sink.queue).isEmpty();
        assertThat(sub.goLiveOrCatchUp(10, b -> "subscribed " + b)).as("catch up to the newest live seq").isEqualTo(30);
        assertThat(sink.queue).isEmpty();

        sub.deliver("{\"ev\":31}", 31);
        sub.deliver("{\"ev\":32}", 32);
        for (long seq = 11; seq <= 30; seq++) {
            sub.sendReplayed("{\"ev\":" + seq + "}", seq);
        }
        assertThat(sub.goLiveOrCatchUp(30, b -> "subscribed " + b)).as("live").isEqualTo(-1);
        sub.deliver("{\"ev\":33}", 33);

        List<String> expected = new ArrayList<>();
        LongStream.rangeClosed(11, 30).forEach(s -> expected.add("{\"ev\":" + s + "}"));
        expected.add("subscribed 30");
        expected.addAll(List.of("{\"ev\":31}", "{\"ev\":32}", "{\"ev\":33}"));
        assertThat(sink.queue).containsExactlyElementsOf(expected);
        assertThat(sink.overflowed).isFalse();
    }

    /**
     * 3,000 stored events are replayed to a reader that spends about 0.03 ms per frame while the session streams
     * 2,000 more, one about every 0.5 ms: the hundreds of live events arriving during the first replay do not fit
     * the live buffer (16 here; before catch-up the client was cut with 4009 at 64). The replay catches up from the
     * store (on this machine in 2–3 rounds, going live while the stream still runs), and the reader gets every
     * event once, in order, with {@code subscribed} right after the last replayed one.
     */
    @Test
    void aReaderFasterThanTheStreamCatchesUpAndGoesLiveWithoutAGapOrADuplicate() throws Exception {
        publish(3_000);
        QueueSink sink = new QueueSink(CAPACITY);
        Reader reader = new Reader(sink, 30_000);
        workers.execute(reader);
        int total = 5_000;
        CompletableFuture<Void> publisher = CompletableFuture.runAsync(() -> {
            while (publishing.get() && stream.lastSeq() < total) {
                publish(1);
                LockSupport.parkNanos(500_000);
            }
        }, workers);

        Subscription sub = new Subscription(SID, sink, "r1");
        replay(30_000)
                .subscribe(stream, sub, 0, b -> ServerFrames.subscribed("r1", SID, b, "running", "e1"));
        publisher.get(60, TimeUnit.SECONDS);
        long lastSeq = stream.lastSeq();
        assertThat(lastSeq).isEqualTo(total);
        reader.awaitSeq(lastSeq, 30_000);

        assertThat(sink.overflowed).as("cut with 4009").isFalse();
        List<String> frames = reader.frames();
        int subscribedAt = -1;
        for (int i = 0; i < frames.size(); i++) {
            if (frames.get(i).contains("\"subscribed\"")) {
                assertThat(subscribedAt).as("one subscribed reply").isEqualTo(-1);
                subscribedAt = i;
            }
        }
        assertThat(subscribedAt).as("subscribed sent").isNotNegative();
        long boundary = lastSeq(frames.get(subscribedAt));
        assertThat(subscribedAt).as("replayed events before subscribed (lastSeq %d)", boundary).isEqualTo((int) boundary);
        List<Long> seqs = frames.stream().filter(f -> !f.contains("\"subscribed\"")).map(ReplayCatchUpUnitTest::seq).toList();
        assertThat(seqs).containsExactlyElementsOf(LongStream.rangeClosed(1, lastSeq).boxed().toList());
        double rounds = metrics.replayCatchUpRounds.count();
        assertThat(rounds).as("catch-up rounds").isPositive();
        System.out.printf("caught up in %.0f rounds; subscribed at seq %d of %d%n", rounds, boundary, lastSeq);
    }

    /**
     * In a cluster a pod can be a few events behind the client that resubscribes to it with the seq it last read:
     * events the client already has must not reach it again when they arrive from the bus.
     */
    @Test
    void aResubscriptionAheadOfThisPodsStreamIsNotSentTheEventsItAlreadyHas() {
        publish(5);
        QueueSink sink = new QueueSink(CAPACITY);
        Subscription sub = new Subscription(SID, sink, "r1");
        replay(30_000)
                .subscribe(stream, sub, 7, b -> ServerFrames.subscribed("r1", SID, b, "running", "e1"));
        for (long seq = 6; seq <= 9; seq++) {
            stream.acceptRemote(seq, ServerFrames.event(SID, seq, "t1", EventKind.TEXT_DELTA, 0, "{\"text\":\"x\"}"));
        }

        assertThat(sink.queue).hasSize(3);
        assertThat(sink.queue.poll()).contains("\"subscribed\"");
        assertThat(sink.queue).extracting(ReplayCatchUpUnitTest::seq).containsExactly(8L, 9L);
    }

    /**
     * In a cluster the events of a turn on another pod arrive over the bus; one the bus lost shows as a seq gap. The
     * subscriber is not cut for it: it reads the missing events from the store (where the owner committed them
     * before publishing) and goes on live, with every event once and in order.
     */
    @Test
    void aLiveSubscriberThatSeesASeqGapFromTheBusCatchesUpFromTheStoreWithoutAGapOrADuplicate() throws Exception {
        publish(3);
        QueueSink sink = new QueueSink(CAPACITY);
        Subscription sub = new Subscription(SID, sink, "r1");
        replay(30_000).subscribe(stream, sub, 3, b -> ServerFrames.subscribed("r1", SID, b, "running", "e1"));
        assertThat(sink.queue.poll()).contains("\"subscribed\"");
        for (long seq = 4; seq <= 8; seq++) {
            // what the owner pod committed
            assertThat(store.tryAppend(new StoredEvent(SID, seq, "t1", EventKind.TEXT_DELTA, 0,
                    ServerFrames.event(SID, seq, "t1", EventKind.TEXT_DELTA, 0, "{\"text\":\"x\"}")))).isTrue();
        }
        for (long seq : new long[] {4, 6, 7, 8}) { // 5 lost on the bus
            stream.acceptRemote(seq, ServerFrames.event(SID, seq, "t1", EventKind.TEXT_DELTA, 0, "{\"text\":\"x\"}"));
        }
        List<Long> seqs = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (seqs.size() < 5 && System.nanoTime() < deadline) {
            String frame = sink.queue.poll(100, TimeUnit.MILLISECONDS);
            if (frame != null) {
                seqs.add(seq(frame));
            }
        }
        assertThat(seqs).containsExactly(4L, 5L, 6L, 7L, 8L);
        stream.acceptRemote(9, ServerFrames.event(SID, 9, "t1", EventKind.TEXT_DELTA, 0, "{\"text\":\"x\"}"));
        assertThat(seq(sink.queue.poll(5, TimeUnit.SECONDS))).as("live again").isEqualTo(9L);
        assertThat(sink.queue).isEmpty();
        assertThat(sink.overflowed).isFalse();
        assertThat(metrics.gapCatchUps.count()).isEqualTo(1.0);
    }

    /**
     * A reader slower than the stream cannot catch up while it streams: each round has more to replay than the one
     * before. It is never cut for that (only for reading nothing): it goes on round after round at its own pace, and
     * once the stream pauses it has every event once, in order, with one {@code subscribed}.
     */
    @Test
    void aReaderSlowerThanTheStreamIsNeverCutAndHasEveryEventOnceTheStreamPauses() throws Exception {
        publish(100);
        QueueSink sink = new QueueSink(CAPACITY);
        Reader reader = new Reader(sink, 100_000);
        workers.execute(reader);
        int total = 6_000;
        CompletableFuture<Void> publisher = CompletableFuture.runAsync(() -> {
            while (publishing.get() && stream.lastSeq() < total) {
                publish(1);
                long until = System.nanoTime() + 50_000;
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
            }
        }, workers);

        Subscription sub = new Subscription(SID, sink, "r1");
        replay(30_000).subscribe(stream, sub, 0, b -> ServerFrames.subscribed("r1", SID, b, "running", "e1"));
        publisher.get(60, TimeUnit.SECONDS);
        reader.awaitSeq(total, 60_000);
        // the last round's subscribed comes right after its last event: the reader may not have read it yet
        reader.awaitFrame("\"subscribed\"", 10_000);
        assertThat(sink.overflowed).as("cut with 4009").isFalse();
        assertThat(metrics.replayCatchUpRounds.count()).as("catch-up rounds").isGreaterThan(2.0);
        List<String> frames = reader.frames();
        assertThat(frames).filteredOn(f -> f.contains("\"subscribed\"")).hasSize(1);
        List<Long> seqs = frames.stream().filter(f -> !f.contains("\"subscribed\"")).map(ReplayCatchUpUnitTest::seq)
                .toList();
        assertThat(seqs).containsExactlyElementsOf(LongStream.rangeClosed(1, total).boxed().toList());
    }

    /**
     * A live subscriber whose client falls behind a fast stream (no room for live events) switches to catching up
     * from the store, is never cut, and ends with every event once, in order.
     */
    @Test
    void aLiveReaderBehindAFastStreamCatchesUpFromTheStoreInsteadOfBeingCut() throws Exception {
        QueueSink sink = new QueueSink(CAPACITY);
        Reader reader = new Reader(sink, 50_000);
        workers.execute(reader);
        Subscription sub = new Subscription(SID, sink, "r1");
        replay(30_000).subscribe(stream, sub, -1, b -> ServerFrames.subscribed("r1", SID, b, "idle", "e1"));
        int total = 5_000;
        publish(total);
        reader.awaitSeq(total, 60_000);
        assertThat(sink.overflowed).as("cut with 4009").isFalse();
        assertThat(metrics.behindCatchUps.count()).as("fell behind and caught up").isPositive();
        List<Long> seqs = reader.frames().stream().filter(f -> !f.contains("\"subscribed\""))
                .map(ReplayCatchUpUnitTest::seq).toList();
        assertThat(seqs).containsExactlyElementsOf(LongStream.rangeClosed(1, total).boxed().toList());
    }

    /** A client that does not read at all during a replay is closed with 4009 once the wait for room times out. */
    @Test
    void aReplayToAClientThatDoesNotReadEndsWith4009WhenTheWaitForRoomTimesOut() throws Exception {
        publish(200);
        QueueSink sink = new QueueSink(CAPACITY);
        Subscription sub = new Subscription(SID, sink, "r1");
        replay(300).subscribe(stream, sub, 0, b -> ServerFrames.subscribed("r1", SID, b, "idle", "e1"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!sink.closed && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(sink.overflowed).isTrue();
        assertThat(sink.queue).noneMatch(f -> f.contains("\"subscribed\"")).hasSizeLessThanOrEqualTo(CAPACITY);
    }

    /**
     * Large events replay at the pace the reader takes their bytes: a page of 16 events of 10 KB each is more than
     * the sink's 64 KB byte budget, so the replay waits for room within the page and the reader gets every event
     * without the sink overflowing.
     */
    @Test
    void aReplayOfLargeEventsWaitsForByteRoomWithinAPageAndNeverOverflowsTheByteBudget() throws Exception {
        String big = "{\"text\":\"" + "x".repeat(10_000) + "\"}";
        for (int i = 0; i < 200; i++) {
            assertThat(stream.tryPublish("t1", EventKind.TEXT_DELTA, big)).isTrue();
        }
        QueueSink sink = new QueueSink(CAPACITY, 64 * 1024);
        Reader reader = new Reader(sink, 200_000);
        workers.execute(reader);
        Subscription sub = new Subscription(SID, sink, "r1");
        replay(30_000)
                .subscribe(stream, sub, 0, b -> ServerFrames.subscribed("r1", SID, b, "idle", "e1"));
        reader.awaitSeq(200, 30_000);
        assertThat(sink.overflowed).as("cut with 4009").isFalse();
    }

    /** A history reply holds fewer events than its limit rather than more than max-reply-bytes, and at least one. */
    @Test
    void aHistoryReplyStopsBeforeMaxReplyBytesAndHoldsAtLeastOneEvent() throws Exception {
        String big = "{\"text\":\"" + "x".repeat(10_000) + "\"}";
        for (int i = 0; i < 50; i++) {
            assertThat(stream.tryPublish("t1", EventKind.TEXT_DELTA, big)).isTrue();
        }
        ReplayService capped = new ReplayService(store, gate, metrics, workers, 1_000, 35_000, 1_000);
        ReplayService.Page page = capped.history(stream, 0, 1000).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(page.events()).hasSize(3);
        assertThat(page.lastSeq()).isEqualTo(50);
        assertThat(page.events().get(2).seq()).isEqualTo(3);
        ReplayService tiny = new ReplayService(store, gate, metrics, workers, 1_000, 100, 1_000);
        assertThat(tiny.history(stream, 3, 1000).toCompletableFuture().get(10, TimeUnit.SECONDS).events())
                .extracting(StoredEvent::seq).containsExactly(4L);
    }

    /** A history reply waits for its sink to drain; one that does not drain in time is refused (rate_limited). */
    @Test
    void aHistoryForASinkThatDoesNotDrainIsRefusedAsRateLimited() throws Exception {
        publish(10);
        QueueSink sink = new QueueSink(CAPACITY, 1_000);
        assertThat(sink.send("y".repeat(900))).isTrue();
        ReplayService service = new ReplayService(store, gate, metrics, workers, 1_000, 400, 300);
        CompletableFuture<ReplayService.Page> refused = service.history(stream, sink, 0, 100).toCompletableFuture();
        assertThat(refused).failsWithin(Duration.ofSeconds(10)).withThrowableOfType(ExecutionException.class)
                .havingCause().isInstanceOfSatisfying(ProtocolException.class,
                        p -> assertThat(p.code()).isEqualTo(ErrorCode.RATE_LIMITED));

        CompletableFuture<ReplayService.Page> waiting = service.history(stream, sink, 0, 100).toCompletableFuture();
        Thread.sleep(100);
        assertThat(waiting).as("no reply while the sink is full").isNotDone();
        sink.written(sink.queue.take());
        assertThat(waiting.get(10, TimeUnit.SECONDS).events()).isNotEmpty();
    }

    private ReplayService replay(long roomTimeoutMillis) {
        return new ReplayService(store, gate, metrics, workers, roomTimeoutMillis, 1 << 20, roomTimeoutMillis);
    }

    private void publish(int events) {
        for (int i = 0; i < events; i++) {
            assertThat(stream.tryPublish("t1", EventKind.TEXT_DELTA, "{\"text\":\"x\"}")).isTrue();
        }
    }

    private static long seq(String frame) {
        Matcher m = SEQ.matcher(frame);
        assertThat(m.find()).as("seq in %s", frame).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static long lastSeq(String frame) {
        Matcher m = LAST_SEQ.matcher(frame);
        assertThat(m.find()).as("lastSeq in %s", frame).isTrue();
        return Long.parseLong(m.group(1));
    }

    /**
     * A connection's outbound queue as {@code ClientConnection} bounds it, in frames and in bytes (chars here):
     * overflowing either closes the sink (4009).
     */
    static final class QueueSink implements FrameSink {
        final int capacity;
        final long byteCapacity;
        final LinkedBlockingQueue<String> queue = new LinkedBlockingQueue<>();
        final AtomicInteger pending = new AtomicInteger();
        final AtomicLong pendingBytes = new AtomicLong();
        private final Object room = new Object();
        volatile boolean closed;
        volatile boolean overflowed;

        QueueSink(int capacity) {
            this(capacity, Long.MAX_VALUE / 2);
        }

        QueueSink(int capacity, long byteCapacity) {
            this.capacity = capacity;
            this.byteCapacity = byteCapacity;
        }

        @Override
        public boolean send(String frame) {
            if (closed) {
                return false;
            }
            if (pending.incrementAndGet() > capacity) {
                pending.decrementAndGet();
                overflow();
                return false;
            }
            if (pendingBytes.addAndGet(frame.length()) > byteCapacity) {
                pendingBytes.addAndGet(-frame.length());
                pending.decrementAndGet();
                overflow();
                return false;
            }
            queue.add(frame);
            return true;
        }

        /** The reader took {@code frame}: the socket write completed. */
        void written(String frame) {
            long bytes = pendingBytes.addAndGet(-frame.length());
            if (pending.decrementAndGet() <= capacity / 2 && bytes <= byteCapacity / 2) {
                synchronized (room) {
                    room.notifyAll();
                }
            }
        }

        @Override
        public void overflow() {
            overflowed = true;
            closed = true;
        }

        @Override
        public int capacity() {
            return capacity;
        }

        @Override
        public long byteCapacity() {
            return byteCapacity;
        }

        @Override
        public boolean hasRoomForLive(int chars) {
            return !closed && pending.get() < capacity - capacity / 4
                    && pendingBytes.get() + chars <= byteCapacity - byteCapacity / 4;
        }

        @Override
        public boolean awaitRoom(long timeoutMillis) throws InterruptedException {
            long deadline = System.currentTimeMillis() + timeoutMillis;
            synchronized (room) {
                while (!closed && (pending.get() > capacity / 2 || pendingBytes.get() > byteCapacity / 2)) {
                    long left = deadline - System.currentTimeMillis();
                    if (left <= 0) {
                        return false;
                    }
                    room.wait(Math.min(left, 20));
                }
            }
            return !closed;
        }
    }

    /** Takes frames off the sink, spending about {@code nanosPerFrame} on each. */
    static final class Reader implements Runnable {
        private final QueueSink sink;
        private final long nanosPerFrame;
        private final List<String> frames = new ArrayList<>();
        private volatile long lastSeq;

        Reader(QueueSink sink, long nanosPerFrame) {
            this.sink = sink;
            this.nanosPerFrame = nanosPerFrame;
        }

        @Override
        public void run() {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    String f = sink.queue.poll(50, TimeUnit.MILLISECONDS);
                    if (f == null) {
                        continue;
                    }
                    LockSupport.parkNanos(nanosPerFrame);
                    synchronized (frames) {
                        frames.add(f);
                    }
                    Matcher m = SEQ.matcher(f);
                    if (m.find()) {
                        lastSeq = Long.parseLong(m.group(1));
                    }
                    sink.written(f);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        List<String> frames() {
            synchronized (frames) {
                return new ArrayList<>(frames);
            }
        }

        void awaitSeq(long seq, long timeoutMillis) throws InterruptedException {
            long deadline = System.currentTimeMillis() + timeoutMillis;
            while (lastSeq < seq && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
            }
            assertThat(lastSeq).as("last seq the reader got").isEqualTo(seq);
        }

        /** Waits until a frame containing {@code text} has been read (e.g. the subscribed that follows the replay). */
        void awaitFrame(String text, long timeoutMillis) throws InterruptedException {
            long deadline = System.currentTimeMillis() + timeoutMillis;
            while (frames().stream().noneMatch(f -> f.contains(text)) && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
            }
        }
    }

    /** Appends synchronously; a barrier completes at once (everything appended is readable). */
}

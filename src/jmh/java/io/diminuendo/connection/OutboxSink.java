package io.diminuendo.connection;

import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import io.diminuendo.stream.FrameSink;
import io.netty.buffer.ByteBuf;

/**
 * Benchmark helper: a subscriber's share of a fan-out on the publishing event loop, as {@link ClientConnection#send}
 * and {@link Outbox#offer} do it: count the frame against the outbound capacity, take the shared wire frame (encoded
 * once per publish, {@link Outbox#shared}), queue it and flag the drain. The socket is replaced by releasing the
 * queued frames whenever the capacity is reached, so no connection is ever closed.
 */
public final class OutboxSink implements FrameSink {
    private final int capacity;
    private final AtomicInteger pending = new AtomicInteger();
    private final Queue<ByteBuf> frames = Outbox.newFrameQueue();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    public OutboxSink(int capacity) {
        this.capacity = capacity;
    }

    @Override
    public boolean hasRoomForLive(int chars) {
        return pending.get() < capacity - capacity / 4;
    }

    @Override
    public boolean send(String frame) {
        if (pending.incrementAndGet() > capacity) {
            pending.decrementAndGet();
            overflow();
            return false;
        }
        frames.offer(Outbox.shared(frame));
        if (!scheduled.get()) {
            scheduled.compareAndSet(false, true);
        }
        if (pending.get() == capacity) {
            writeAll();
        }
        return true;
    }

    /** Stands in for the event loop's drain: the frames leave and their bytes are released. */
    private void writeAll() {
        scheduled.set(false);
        int written = 0;
        for (ByteBuf b = frames.poll(); b != null; b = frames.poll()) {
            b.release();
            written++;
        }
        pending.addAndGet(-written);
    }

    @Override
    public void overflow() {
        throw new IllegalStateException("benchmark sink overflowed");
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public long byteCapacity() {
        return Long.MAX_VALUE;
    }

    @Override
    public boolean awaitRoom(long timeoutMillis) {
        return true;
    }
}

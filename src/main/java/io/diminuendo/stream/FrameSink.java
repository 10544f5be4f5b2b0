package io.diminuendo.stream;

import java.util.concurrent.Semaphore;

/** Where a subscription's frames go: a connection's bounded outbound queue. */
public interface FrameSink {
    /** The connection's share of store reads ({@code reads-per-connection}), or null for no per-connection bound. */
    default Semaphore readSlots() {
        return null;
    }

    /** Queues a frame; false when the sink is closed (or was just closed for overflowing). */
    boolean send(String frame);

    /**
     * Whether a live event of about {@code chars} fits below the live mark (three quarters of the frame and byte
     * capacities, and room in the process-wide budget). A subscription whose live event does not fit falls behind
     * and catches up from the store, instead of filling the sink until it overflows.
     */
    boolean hasRoomForLive(int chars);

    /** Closes the sink as a slow consumer (4009). */
    void overflow();

    /** Frames the sink accepts before it overflows. */
    int capacity();

    /** Bytes of frames the sink accepts before it overflows. */
    long byteCapacity();

    /**
     * Blocks (never on an event loop) until at most half the capacity and half the byte capacity are in use; false
     * if closed or timed out.
     */
    boolean awaitRoom(long timeoutMillis) throws InterruptedException;
}

package io.diminuendo.stream;

/** Where a subscription's frames go: a connection's bounded outbound queue. */
public interface FrameSink {
    /** Queues a frame; false when the sink is closed (or was just closed for overflowing). */
    boolean send(String frame);

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

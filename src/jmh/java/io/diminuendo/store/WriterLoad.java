package io.diminuendo.store;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.diminuendo.protocol.EventKind;
import io.diminuendo.protocol.ServerFrames;
import io.diminuendo.upstream.EventMapper;

/**
 * What the writer benchmarks append: {@code text_delta} events round-robin over 8 streaming sessions from the
 * calling thread, as {@code SessionStream.tryPublish} does. A new load starts every session at seq 1.
 */
final class WriterLoad {
    /** Events appended by one {@link #appendAndCommit}. */
    static final int ROWS = 16_384;
    private static final int SESSIONS = 8;
    private static final String TURN = "8d7c6b5a-4f3e-4d2c-9b1a-0f1e2d3c4b5a";

    private final String[] sessionIds = new String[SESSIONS];
    private final long[] seqs = new long[SESSIONS];
    private final String frame;

    WriterLoad() {
        for (int i = 0; i < SESSIONS; i++) {
            sessionIds[i] = "3f2b8c1e-9a4d-4e7b-b1c2-5d6e7f8a9b0" + i;
        }
        frame = ServerFrames.event(sessionIds[0], 1204, TURN, EventKind.TEXT_DELTA, 1_760_000_000_000L,
                EventMapper.textData("I'll look at the failing test first. "));
    }

    /** The sessions the events are spread over. */
    List<String> sessionIds() {
        return List.of(sessionIds);
    }

    /**
     * Appends {@link #ROWS} events, waiting for room whenever the store's queue is full, then waits for
     * {@link EventStore#barrier()}: only committed rows count.
     */
    void appendAndCommit(EventStore store) throws Exception {
        long ts = System.currentTimeMillis();
        for (int i = 0; i < ROWS; i++) {
            int s = i & (SESSIONS - 1);
            StoredEvent e = new StoredEvent(sessionIds[s], ++seqs[s], TURN, EventKind.TEXT_DELTA, ts, frame);
            while (!store.tryAppend(e)) {
                CountDownLatch room = new CountDownLatch(1);
                store.whenWritable(room::countDown);
                room.await();
            }
        }
        store.barrier().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
}

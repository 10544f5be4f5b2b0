package io.diminuendo.stream;

import io.diminuendo.protocol.ServerFrames;

/** Benchmark helper: a {@link Subscription} already past its replay, as a connection holds it while streaming. */
public final class LiveSubscriptions {
    private LiveSubscriptions() {
    }

    public static Subscription live(String sessionId, FrameSink sink) {
        Subscription s = new Subscription(sessionId, sink, null);
        s.goLive(0, ServerFrames.subscribed(null, sessionId, 0, "idle", "e1"));
        return s;
    }
}

package io.diminuendo.stream;

import io.diminuendo.hub.Hub;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.EventKind;
import io.diminuendo.protocol.ServerFrames;
import io.diminuendo.store.EventLog;
import io.diminuendo.store.StoredEvent;

/**
 * The ordered event stream of one session. Publishing assigns the next seq, encodes the frame once, queues it
 * for the store and fans it out, all under the session lock, so seq order, store order and delivery order are
 * the same. The lock belongs to the session ({@code SessionState}), which also guards its turn state with it,
 * so a turn's state change and the event that reports it cannot be reordered; this class takes it for every
 * method that reads or moves the seq.
 */
public final class SessionStream {
    private final String sessionId;
    private final String tenantId;
    private final String topic;
    private final Hub hub;
    private final EventLog store;
    private final GatewayMetrics metrics;
    private final Object lock;
    private long lastSeq;
    /** The session was deleted: no more events, no more subscribers. */
    private boolean closed;

    /** {@code lock} is the session lock; the stream's state is only read or changed while holding it. */
    public SessionStream(String sessionId, String tenantId, long lastSeq, Hub hub, EventLog store,
            GatewayMetrics metrics, Object lock) {
        this.sessionId = sessionId;
        this.tenantId = tenantId;
        this.topic = Hub.sessionTopic(sessionId);
        this.lastSeq = lastSeq;
        this.hub = hub;
        this.store = store;
        this.metrics = metrics;
        this.lock = lock;
    }

    public String sessionId() {
        return sessionId;
    }

    /** The session's tenant, whose share of the store's reads this stream's replays and history take. */
    public String tenantId() {
        return tenantId;
    }

    public long lastSeq() {
        synchronized (lock) {
            return lastSeq;
        }
    }

    /**
     * Sequences, stores and fans out one event. Returns false, changing nothing, when the store's write queue is
     * full; the caller keeps the event and retries after {@link EventLog#whenWritable}.
     */
    public boolean tryPublish(String turnId, EventKind kind, String dataJson) {
        synchronized (lock) {
            if (closed) {
                return true;
            }
            long seq = lastSeq + 1;
            long ts = System.currentTimeMillis();
            String frame = ServerFrames.event(sessionId, seq, turnId, kind, ts, dataJson);
            if (!store.tryAppend(new StoredEvent(sessionId, seq, turnId, kind, ts, frame))) {
                return false;
            }
            lastSeq = seq;
            hub.publish(topic, frame, seq);
            metrics.eventsPublished.increment();
            return true;
        }
    }

    /**
     * Delivers an event that another pod sequenced and committed (cluster mode). Events at or below the last seq
     * are duplicates and dropped; an event further ahead than the next seq still advances the stream, and the
     * subscribers that see the gap catch up from the store, which has everything up to it. Returns false for a
     * duplicate.
     */
    public boolean acceptRemote(long seq, String frame) {
        synchronized (lock) {
            if (closed || seq <= lastSeq) {
                return false;
            }
            lastSeq = seq;
            hub.publish(topic, frame, seq);
            return true;
        }
    }

    /** Moves the last seq forward to {@code seq} without publishing (another pod's events are stored up to it). */
    public void advanceTo(long seq) {
        synchronized (lock) {
            if (seq > lastSeq) {
                lastSeq = seq;
            }
        }
    }

    /**
     * Subscribes atomically with respect to publishing and returns the last seq at that instant, or -1 (subscribing
     * nothing) once the session is deleted.
     */
    long attach(Subscription subscription) {
        synchronized (lock) {
            if (closed) {
                return -1;
            }
            hub.subscribe(topic, subscription);
            return lastSeq;
        }
    }

    /** True once the session is deleted (the deletion was decided, maybe not yet committed). */
    public boolean isStopped() {
        synchronized (lock) {
            return closed;
        }
    }

    public void detach(Subscription subscription) {
        hub.unsubscribe(topic, subscription);
        subscription.close();
    }

    /**
     * The session's deletion was decided: later publishes are dropped and later subscribes refused, so no event can
     * be queued for the store after its delete. Subscribers stay until {@link #closeAll} tells them.
     */
    public void stop() {
        synchronized (lock) {
            closed = true;
        }
    }

    /**
     * The deletion committed: every subscriber is told ({@code unsubscribed} with {@code reason}, answering a
     * subscribe whose replay still runs) and dropped, and receives nothing more of this session.
     */
    public void closeAll(String reason) {
        synchronized (lock) {
            closed = true;
            hub.closeTopic(topic, reason);
        }
    }
}

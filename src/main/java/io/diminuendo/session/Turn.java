package io.diminuendo.session;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executor;

import io.diminuendo.protocol.EventKind;
import io.diminuendo.protocol.Json;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.store.EventLog;
import io.diminuendo.stream.SessionStream;
import io.diminuendo.upstream.BackendEvent;
import io.diminuendo.upstream.EventMapper;
import io.diminuendo.upstream.TurnHandle;
import io.diminuendo.upstream.TurnSink;

/**
 * One turn's state machine: running (possibly waiting on permission requests) until exactly one terminal event
 * (completed, failed, cancelled) is published. Everything runs under the session lock ({@link SessionState#lock()}). When the
 * store's write queue is full, events wait in a per-turn queue in order and the backend is told to pause;
 * the turn only stops being the session's active turn once its terminal event is actually published.
 */
final class Turn implements TurnSink, EventMapper.Output {
    private final String id;
    private final SessionState session;
    private final SessionStream stream;
    private final Object lock;
    private final EventLog store;
    private final EventMapper mapper;
    private final Executor executor;
    private final Runnable onEnd;
    private final Runnable paused;
    private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
    private final Map<String, Boolean> permissionsResolved = new HashMap<>();
    private TurnHandle handle;
    private Runnable resume;
    private volatile boolean ended;

    /** {@code paused} runs each time the turn starts holding events back because the store is full. */
    Turn(String id, SessionState session, EventLog store, EventMapper mapper, Executor executor, Runnable onEnd,
            Runnable paused) {
        this.id = id;
        this.session = session;
        this.stream = session.stream();
        this.lock = session.lock();
        this.store = store;
        this.mapper = mapper;
        this.executor = executor;
        this.onEnd = onEnd;
        this.paused = paused;
    }

    String id() {
        return id;
    }

    void handle(TurnHandle handle) {
        this.handle = handle;
    }

    @Override
    public boolean emit(BackendEvent event) {
        synchronized (lock) {
            if (ended) {
                return true;
            }
            if (event instanceof BackendEvent.PermissionRequest p) {
                permissionsResolved.put(p.requestId(), Boolean.FALSE);
            }
            mapper.map(event, this);
            return waiting.isEmpty();
        }
    }

    @Override
    public void event(EventKind kind, String dataJson) {
        publish(kind, dataJson);
    }

    @Override
    public void whenReady(Runnable task) {
        synchronized (lock) {
            if (!waiting.isEmpty()) {
                resume = task;
                return;
            }
        }
        task.run();
    }

    @Override
    public boolean isEnded() {
        return ended;
    }

    /** Publishes one event of this turn, in order; a terminal kind ends the turn. Caller holds the session lock. */
    void publish(EventKind kind, String dataJson) {
        assert Thread.holdsLock(lock);
        if (ended) {
            return;
        }
        boolean terminal = kind.isTerminal();
        if (terminal) {
            ended = true;
        }
        if (waiting.isEmpty() && stream.tryPublish(id, kind, dataJson)) {
            if (terminal) {
                finish();
            }
            return;
        }
        waiting.add(new Pending(kind, dataJson));
        if (waiting.size() == 1) {
            paused.run();
            store.whenWritable(() -> executor.execute(this::drain));
        }
    }

    private void drain() {
        Runnable toResume;
        synchronized (lock) {
            while (!waiting.isEmpty()) {
                Pending e = waiting.peek();
                if (!stream.tryPublish(id, e.kind(), e.dataJson())) {
                    store.whenWritable(() -> executor.execute(this::drain));
                    return;
                }
                waiting.poll();
                if (e.kind().isTerminal()) {
                    finish();
                }
            }
            toResume = resume;
            resume = null;
        }
        if (toResume != null) {
            toResume.run();
        }
    }

    private void finish() {
        if (session.activeTurn() == this) {
            session.activeTurn(null);
        }
        onEnd.run();
    }

    /** Ends the turn as failed (timeouts, backend loss, shutdown); no-op once ended. Caller holds the session lock. */
    void fail(String code, String message) {
        assert Thread.holdsLock(lock);
        if (!ended) {
            if (handle != null) {
                handle.cancel();
            }
            publish(EventKind.TURN_FAILED, EventMapper.failure(code, message));
        }
    }

    /** Ends the turn as cancelled by {@code userId}. Caller holds the session lock. */
    void cancel(String userId) {
        assert Thread.holdsLock(lock);
        if (ended) {
            throw ProtocolException.conflict("no turn is running in session " + session.id());
        }
        if (handle != null) {
            handle.cancel();
        }
        publish(EventKind.TURN_CANCELLED, Json.obj().str("userId", userId).end());
    }

    /** Records and forwards a permission decision. Caller holds the session lock. */
    void decide(String requestId, String decision, String userId, Runnable acknowledge) {
        assert Thread.holdsLock(lock);
        Boolean resolved = permissionsResolved.get(requestId);
        if (resolved == null || ended) {
            throw ProtocolException.notFound("permission request", requestId);
        }
        if (resolved) {
            throw ProtocolException.conflict("permission request " + requestId + " was already resolved");
        }
        permissionsResolved.put(requestId, Boolean.TRUE);
        session.permissionResolved(requestId);
        acknowledge.run();
        publish(EventKind.PERMISSION_RESOLVED, Json.obj().str("requestId", requestId).str("decision", decision)
                .str("userId", userId).end());
        handle.permissionDecision(requestId, decision);
    }

    /** Drops the turn without events (its session is being deleted). Caller holds the session lock. */
    void abandon() {
        assert Thread.holdsLock(lock);
        if (!ended) {
            ended = true;
            if (handle != null) {
                handle.cancel();
            }
            waiting.clear();
            finish();
        }
    }

    /** An event held back while the store's write queue is full. */
    private record Pending(EventKind kind, String dataJson) {
    }
}

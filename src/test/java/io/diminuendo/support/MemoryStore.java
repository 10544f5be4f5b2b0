package io.diminuendo.support;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Consumer;

import io.diminuendo.store.EventLog;
import io.diminuendo.store.StoredEvent;

/**
 * An in-memory event log for unit tests of one session's stream (seq → event). Writes commit at once; {@link #full}
 * makes it refuse appends as a store with a full write queue does, and {@link #room()} runs the tasks waiting for
 * room.
 */
public final class MemoryStore implements EventLog {
    private final ConcurrentSkipListMap<Long, StoredEvent> events = new ConcurrentSkipListMap<>();
    private final List<Runnable> waiting = new ArrayList<>();
    private volatile boolean full;

    /** Refuses ({@code true}) or accepts appends from now on. */
    public void full(boolean full) {
        this.full = full;
    }

    /** Accepts appends again and runs every task that was waiting for room. */
    public void room() {
        full = false;
        List<Runnable> tasks;
        synchronized (waiting) {
            tasks = new ArrayList<>(waiting);
            waiting.clear();
        }
        tasks.forEach(Runnable::run);
    }

    /** Every stored event, ascending by seq. */
    public List<StoredEvent> events() {
        return List.copyOf(events.values());
    }

    @Override
    public boolean tryAppend(StoredEvent event) {
        if (full) {
            return false;
        }
        events.put(event.seq(), event);
        return true;
    }

    @Override
    public void whenWritable(Runnable task) {
        if (!full) {
            task.run();
            return;
        }
        synchronized (waiting) {
            waiting.add(task);
        }
    }

    @Override
    public CompletionStage<Void> barrier() {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public List<StoredEvent> readEvents(String sessionId, long afterSeq, long maxSeq, int limit) {
        return events.subMap(afterSeq, false, maxSeq, true).values().stream().limit(limit).toList();
    }

    @Override
    public void onCommitted(Consumer<List<StoredEvent>> listener) {
    }
}

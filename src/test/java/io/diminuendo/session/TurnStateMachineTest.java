package io.diminuendo.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.diminuendo.hub.Hub;
import io.diminuendo.hub.LocalHub;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.EventKind;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.store.SessionRecord;
import io.diminuendo.store.StoredEvent;
import io.diminuendo.support.MemoryStore;
import io.diminuendo.upstream.BackendEvent;
import io.diminuendo.upstream.EventMapper;
import io.diminuendo.upstream.TurnHandle;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The turn state machine without a server: a real {@link SessionState}, {@link EventMapper} and hub over an
 * in-memory store that can be made to refuse writes. Work the turn hands to the executor runs at once.
 */
class TurnStateMachineTest {
    private final MemoryStore store = new MemoryStore();
    private final GatewayMetrics metrics = new GatewayMetrics(new SimpleMeterRegistry());
    private final LocalHub hub = new LocalHub();
    private final SessionState session = new SessionState(new SessionRecord("s1", "t", "alice", "", "idle", null,
            "sim", "e1", 1, 1), 0, hub, store, metrics);
    private final List<Long> delivered = new ArrayList<>();
    private final AtomicInteger ends = new AtomicInteger();
    private final AtomicInteger pauses = new AtomicInteger();
    private final RecordingHandle handle = new RecordingHandle();
    private Turn turn;

    @BeforeEach
    void start() {
        hub.subscribe(Hub.sessionTopic("s1"), (frame, seq) -> delivered.add(seq));
        turn = new Turn("turn-1", session, store, new EventMapper(metrics), Runnable::run, ends::incrementAndGet,
                pauses::incrementAndGet);
        turn.handle(handle);
        synchronized (session.lock()) {
            session.activeTurn(turn);
            turn.publish(EventKind.TURN_STARTED, "{}");
        }
    }

    @Test
    void mapsBackendEventsToNumberedEventsAndEndsOnTheTerminalOne() {
        assertThat(turn.emit(new BackendEvent.TextDelta(0, "hel"))).isTrue();
        assertThat(turn.emit(new BackendEvent.TextDelta(0, "lo"))).isTrue();
        assertThat(turn.emit(new BackendEvent.MessageStop())).isTrue();

        assertThat(kinds()).containsExactly(EventKind.TURN_STARTED, EventKind.TEXT_DELTA, EventKind.TEXT_DELTA,
                EventKind.TURN_COMPLETED);
        assertThat(delivered).containsExactly(1L, 2L, 3L, 4L);
        assertThat(turn.isEnded()).isTrue();
        assertThat(ends).hasValue(1);
        assertThat(session.status()).isEqualTo("idle");
    }

    @Test
    void ignoresEverythingAfterItsTerminalEvent() {
        turn.emit(new BackendEvent.Error("overloaded", "busy"));
        assertThat(turn.emit(new BackendEvent.TextDelta(0, "late"))).isTrue();
        synchronized (session.lock()) {
            turn.fail("timeout", "too late");
        }

        assertThat(kinds()).containsExactly(EventKind.TURN_STARTED, EventKind.TURN_FAILED);
        assertThat(ends).hasValue(1);
        assertThat(handle.cancels).as("a turn the backend ended is not cancelled at the backend").isZero();
    }

    @Test
    void cancelPublishesTurnCancelledOnceAndStopsTheBackend() {
        synchronized (session.lock()) {
            turn.cancel("bob");
            assertThatThrownBy(() -> turn.cancel("bob")).isInstanceOf(ProtocolException.class)
                    .extracting(e -> ((ProtocolException) e).code()).isEqualTo(ErrorCode.CONFLICT);
        }

        assertThat(kinds()).containsExactly(EventKind.TURN_STARTED, EventKind.TURN_CANCELLED);
        assertThat(store.events().get(1).frame()).contains("\"userId\":\"bob\"");
        assertThat(handle.cancels).isEqualTo(1);
        assertThat(ends).hasValue(1);
    }

    @Test
    void holdsEventsInOrderWhileTheStoreIsFullAndStaysActiveUntilItsTerminalEventIsPublished() {
        store.full(true);
        assertThat(turn.emit(new BackendEvent.TextDelta(0, "a"))).as("the backend is told to pause").isFalse();
        assertThat(turn.emit(new BackendEvent.TextDelta(0, "b"))).isFalse();
        assertThat(turn.emit(new BackendEvent.MessageStop())).isFalse();
        List<String> resumed = new ArrayList<>();
        turn.whenReady(() -> resumed.add("resumed"));

        assertThat(kinds()).containsExactly(EventKind.TURN_STARTED);
        assertThat(pauses).hasValue(1);
        assertThat(resumed).isEmpty();
        assertThat(ends).as("not over until turn_completed is published").hasValue(0);
        assertThat(session.status()).isEqualTo("running");

        store.room();

        assertThat(kinds()).containsExactly(EventKind.TURN_STARTED, EventKind.TEXT_DELTA, EventKind.TEXT_DELTA,
                EventKind.TURN_COMPLETED);
        assertThat(store.events()).extracting(StoredEvent::seq).containsExactly(1L, 2L, 3L, 4L);
        assertThat(store.events().get(1).frame()).contains("\"text\":\"a\"");
        assertThat(resumed).containsExactly("resumed");
        assertThat(ends).hasValue(1);
        assertThat(session.status()).isEqualTo("idle");
    }

    @Test
    void aPermissionRequestIsAnsweredOnceAndTheAnswerForwardedToTheBackend() {
        turn.emit(new BackendEvent.PermissionRequest("p1", "tool-1", "bash", "{\"cmd\":\"ls\"}"));
        List<String> acks = new ArrayList<>();
        synchronized (session.lock()) {
            assertThatThrownBy(() -> turn.decide("nope", "allow", "bob", () -> acks.add("nope")))
                    .extracting(e -> ((ProtocolException) e).code()).isEqualTo(ErrorCode.NOT_FOUND);
            turn.decide("p1", "allow", "bob", () -> acks.add("p1"));
            assertThatThrownBy(() -> turn.decide("p1", "deny", "bob", () -> acks.add("again")))
                    .extracting(e -> ((ProtocolException) e).code()).isEqualTo(ErrorCode.CONFLICT);
            assertThat(session.isPermissionResolved("p1")).isTrue();
        }

        assertThat(acks).containsExactly("p1");
        assertThat(handle.decisions).containsExactly("p1=allow");
        assertThat(kinds()).containsExactly(EventKind.TURN_STARTED, EventKind.PERMISSION_REQUEST,
                EventKind.PERMISSION_RESOLVED);
        assertThat(turn.isEnded()).isFalse();
    }

    @Test
    void abandonEndsTheTurnWithoutAnEvent() {
        store.full(true);
        turn.emit(new BackendEvent.TextDelta(0, "held"));
        synchronized (session.lock()) {
            turn.abandon();
        }
        store.room();

        assertThat(kinds()).containsExactly(EventKind.TURN_STARTED);
        assertThat(handle.cancels).isEqualTo(1);
        assertThat(ends).hasValue(1);
        assertThat(session.status()).isEqualTo("idle");
    }

    @Test
    void methodsThatNeedTheSessionLockRefuseToRunWithoutIt() {
        assertThatThrownBy(() -> turn.publish(EventKind.STATUS, "{}")).isInstanceOf(AssertionError.class);
        assertThatThrownBy(() -> turn.fail("x", "y")).isInstanceOf(AssertionError.class);
        assertThatThrownBy(() -> turn.cancel("bob")).isInstanceOf(AssertionError.class);
        assertThatThrownBy(() -> turn.abandon()).isInstanceOf(AssertionError.class);
        assertThatThrownBy(() -> session.activeTurn()).isInstanceOf(AssertionError.class);
        assertThat(kinds()).containsExactly(EventKind.TURN_STARTED);
    }

    private List<EventKind> kinds() {
        return store.events().stream().map(StoredEvent::kind).toList();
    }

    private static final class RecordingHandle implements TurnHandle {
        int cancels;
        final List<String> decisions = new ArrayList<>();

        @Override
        public void cancel() {
            cancels++;
        }

        @Override
        public void permissionDecision(String requestId, String decision) {
            decisions.add(requestId + "=" + decision);
        }
    }
}

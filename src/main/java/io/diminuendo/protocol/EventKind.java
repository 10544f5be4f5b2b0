package io.diminuendo.protocol;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The kinds of a session's stream events (docs/protocol.md, "Streams"): the wire name of each, spelled only here,
 * and whether it ends a turn. Every turn has exactly one terminal event.
 */
public enum EventKind {
    USER_MESSAGE("user_message"),
    TURN_STARTED("turn_started"),
    TEXT_DELTA("text_delta"),
    THINKING_DELTA("thinking_delta"),
    TOOL_CALL("tool_call"),
    TOOL_RESULT("tool_result"),
    PERMISSION_REQUEST("permission_request"),
    PERMISSION_RESOLVED("permission_resolved"),
    STATUS("status"),
    USAGE("usage"),
    TURN_COMPLETED("turn_completed", true),
    TURN_FAILED("turn_failed", true),
    TURN_CANCELLED("turn_cancelled", true);

    private static final Map<String, EventKind> BY_WIRE = new HashMap<>();
    /** The kinds that end a turn, in declaration order. */
    public static final List<EventKind> TERMINAL = Arrays.stream(values()).filter(k -> k.terminal).toList();

    static {
        for (EventKind k : values()) {
            BY_WIRE.put(k.wire, k);
        }
    }

    private final String wire;
    private final boolean terminal;

    EventKind(String wire) {
        this(wire, false);
    }

    EventKind(String wire, boolean terminal) {
        this.wire = wire;
        this.terminal = terminal;
    }

    /** The name clients see in an event frame's {@code kind} and the store keeps. */
    public String wire() {
        return wire;
    }

    /** True for the kinds that end a turn: completed, failed, cancelled. */
    public boolean isTerminal() {
        return terminal;
    }

    /** The kind with this wire name, or null if there is none. */
    public static EventKind fromWire(String wire) {
        return BY_WIRE.get(wire);
    }
}

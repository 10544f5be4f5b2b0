package io.diminuendo.upstream;

/** An agent backend: the built-in simulator, a §3 WebSocket upstream, or an OpenAI-compatible server. */
public interface AgentBackend {
    String name();

    /** Whether new turns can start now; false makes {@code send_message} answer {@code unavailable}. */
    boolean isUp();

    /** Latency of the last health probe in ms, or -1 if not applicable. */
    double latencyMs();

    /** Epoch ms of the last health probe or heartbeat. */
    long checkedAt();

    /** Starts a turn; events flow into {@code sink}. Must not block. */
    TurnHandle start(TurnRequest request, TurnSink sink);

    /** Whether {@link TurnRequest#history()} should be filled (it costs a read of the session's events). */
    default boolean needsHistory() {
        return true;
    }

    /** Releases connections; called once at shutdown. */
    default void close() {
    }
}

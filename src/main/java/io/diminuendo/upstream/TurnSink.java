package io.diminuendo.upstream;

/**
 * Receives a turn's backend events. {@link #emit} always takes the event; when it returns false the backend
 * must stop producing until the task given to {@link #whenReady} runs (flow control: the store or the
 * clients are behind). Events after the turn ended are ignored.
 */
public interface TurnSink {
    boolean emit(BackendEvent event);

    void whenReady(Runnable resume);

    /** True once the turn has ended (completed, failed, cancelled); a backend can stop its work. */
    boolean isEnded();
}

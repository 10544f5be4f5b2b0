package io.diminuendo.hub;

/** Receives frames published to a topic. Called on the publisher's thread; must not block. */
public interface Subscriber {
    /** {@code seq} is the session seq of an event frame, or 0 for frames outside a session stream. */
    void deliver(String frame, long seq);

    /** The topic was closed (its session deleted) for {@code reason}; nothing more will be delivered. */
    default void topicClosed(String reason) {
    }
}

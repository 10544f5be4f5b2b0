package io.diminuendo.hub;

/**
 * Topic fan-out. A frame is encoded once by the publisher and the same text handed to every subscriber.
 * Publishers of one topic serialise their own publishes, so subscribers see a topic's frames in publish order.
 * {@link LocalHub} is the in-process implementation; a broker-backed one (NATS, Redis) can take its place to
 * share topics between gateway instances.
 */
public interface Hub {
    void subscribe(String topic, Subscriber subscriber);

    void unsubscribe(String topic, Subscriber subscriber);

    /** Delivers {@code frame} to every current subscriber of {@code topic}; returns how many received it. */
    int publish(String topic, String frame, long seq);

    /** Drops every subscriber of {@code topic}, telling each why ({@link Subscriber#topicClosed}). */
    void closeTopic(String topic, String reason);

    static String sessionTopic(String sessionId) {
        return "s:" + sessionId;
    }

    static String tenantTopic(String tenantId) {
        return "t:" + tenantId;
    }
}

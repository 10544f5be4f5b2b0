package io.diminuendo.cluster;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * What carries events between the pods of a cluster. Only committed events are published, so a pod that receives
 * one can always read it, and everything before it, from the shared store. Publications of this pod are not
 * delivered back to it. {@link LocalBroker} is the single-pod broker (nothing to share); {@link NatsBroker} uses NATS.
 */
public interface Broker {

    /** Receives what other pods publish; called on the broker's own thread, in publish order per pod. */
    interface Handler {
        /** A committed event of {@code sessionId}, with the pod that sequenced it and the stream's epoch. */
        void event(String sessionId, long seq, String kind, String turnId, String epoch, String pod, String frame);

        /** A committed change of session {@code sessionId} in {@code tenantId}; {@code frame} is the tenant event. */
        void sessionChanged(String tenantId, String sessionId, String change, String frame);
    }

    /** Answers a command routed to this pod: returns the reply to send back. */
    interface CommandHandler {
        String handle(String command);
    }

    /** Connects and starts delivering other pods' publications to {@code handler} and commands to {@code commands}. */
    void start(Handler handler, CommandHandler commands);

    /** True for a broker that shares events with other pods. */
    boolean clustered();

    /** Whether the broker can publish and receive now (readiness). */
    boolean connected();

    /** A committed event as it travels between pods: its position, kind, turn and the frame clients receive. */
    record Event(long seq, String kind, String turnId, String frame) {
    }

    /**
     * Publishes committed events of one session, in seq order, with the session's epoch; the other pods' handlers
     * receive them one by one, in the same order. A broker may carry them in as few messages as it can.
     */
    void publishEvents(String sessionId, String epoch, List<Event> events);

    void publishSessionChange(String tenantId, String sessionId, String change, String frame);

    /** Sends {@code command} to {@code pod} and completes with its reply; fails if the pod does not answer in time. */
    CompletionStage<String> request(String pod, String command);

    /** This pod's name. */
    String pod();

    void stop();
}

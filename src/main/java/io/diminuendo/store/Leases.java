package io.diminuendo.store;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * Who may sequence a session's stream: the pod holding its lease in the shared store. A pod takes the lease to run a
 * turn, renews it while the turn runs and gives it back when the turn's last event is committed; a lease that is not
 * renewed expires, and another pod takes over what its holder left (see {@link #takeExpired}). Every method blocks.
 */
public interface Leases {
    /**
     * Takes the lease of {@code sessionId} for this pod and turn unless another pod holds one that has not expired.
     * Returns null on success, else the holder.
     */
    Holder acquire(String sessionId, String turnId, Duration ttl);

    /** Extends this pod's leases of {@code sessionIds}; returns those it no longer holds (taken over meanwhile). */
    Set<String> renew(Collection<String> sessionIds, Duration ttl);

    /** Gives back this pod's lease of {@code sessionId} for {@code turnId} (not one taken since for another turn). */
    void release(String sessionId, String turnId);

    /** Removes expired leases and returns them; each one is returned to exactly one pod in the cluster. */
    List<Holder> takeExpired();

    /** Every lease that has not expired (at start-up: which turns run on other pods). */
    List<Holder> held();

    /** The highest seq stored for the session, 0 if none. */
    long lastStoredSeq(String sessionId);

    /** A lease: the session, the pod holding it and the turn it runs. */
    record Holder(String sessionId, String pod, String turnId) {
    }
}

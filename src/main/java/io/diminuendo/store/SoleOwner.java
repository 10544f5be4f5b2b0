package io.diminuendo.store;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/** The leases of a store only one process uses: that process holds them all, nothing expires. */
final class SoleOwner implements Leases {
    @Override
    public Holder acquire(String sessionId, String turnId, Duration ttl) {
        return null;
    }

    @Override
    public Set<String> renew(Collection<String> sessionIds, Duration ttl) {
        return Set.of();
    }

    @Override
    public void release(String sessionId, String turnId) {
    }

    @Override
    public List<Holder> takeExpired() {
        return List.of();
    }

    @Override
    public List<Holder> held() {
        return List.of();
    }

    @Override
    public long lastStoredSeq(String sessionId) {
        return 0;
    }
}

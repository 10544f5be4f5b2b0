package io.diminuendo.store;

import java.time.Duration;
import java.util.Collection;
import java.util.List;

/** The leases of a store only one process uses: that process holds them all, nothing expires. */
final class SoleOwner implements Leases {
    @Override
    public Holder acquire(String sessionId, String turnId, Duration ttl) {
        return null;
    }

    @Override
    public void renew(Collection<String> sessionIds, Duration ttl) {
    }

    @Override
    public void release(String sessionId) {
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

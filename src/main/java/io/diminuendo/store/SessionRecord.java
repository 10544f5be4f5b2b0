package io.diminuendo.store;

/** The durable part of a session. {@code status} is {@code idle} or {@code archived}; running is live state. */
public record SessionRecord(String id, String tenantId, String ownerId, String title, String status,
        String metadataJson, String agent, String epoch, long createdAt, long updatedAt) {

    public SessionRecord withTitle(String newTitle, long now) {
        return new SessionRecord(id, tenantId, ownerId, newTitle, status, metadataJson, agent, epoch, createdAt, now);
    }

    public SessionRecord withStatus(String newStatus, long now) {
        return new SessionRecord(id, tenantId, ownerId, title, newStatus, metadataJson, agent, epoch, createdAt, now);
    }

    public SessionRecord withEpoch(String newEpoch) {
        return new SessionRecord(id, tenantId, ownerId, title, status, metadataJson, agent, newEpoch, createdAt, updatedAt);
    }
}

package io.diminuendo.store;

import io.diminuendo.protocol.EventKind;

/** One event of a session's stream as persisted: its position, its kind and the exact frame clients receive. */
public record StoredEvent(String sessionId, long seq, String turnId, EventKind kind, long ts, String frame) {
}

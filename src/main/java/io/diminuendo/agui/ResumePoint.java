package io.diminuendo.agui;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.EventKind;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.store.EventLog;
import io.diminuendo.store.StoredEvent;

/**
 * Where a run that resumes a turn picks it up, found in the session's stored events: the turn of the newest
 * interrupt it answers, the seq of that interrupt (the run streams what follows it), the tool calls that earlier
 * runs of the turn announced and the turn's usage so far.
 *
 * @param turnId the turn the run continues
 * @param afterSeq the seq of the newest answered interrupt; the run gets the turn's events after it
 * @param announced tool call ids announced up to {@code afterSeq}, never announced again
 * @param usage the data of the turn's last {@code usage} event up to {@code afterSeq}, or null
 */
record ResumePoint(String turnId, long afterSeq, Set<String> announced, JsonNode usage) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Events read from the store at a time, from the newest back. */
    static final int PAGE = 500;
    /** An interrupt further back than this many events is not looked for: it is {@code not_found}. */
    static final long MAX_SCAN = 100_000;

    /**
     * Reads the session's events from {@code lastSeq} back until every interrupt in {@code interruptIds} is found
     * and the start of the newest one's turn is reached. Blocking: the store is read (after the caller's barrier).
     * An interrupt that is not there is {@code not_found}, naming it.
     */
    static ResumePoint find(EventLog log, String sessionId, long lastSeq, List<String> interruptIds) {
        Set<String> missing = new HashSet<>(interruptIds);
        String turnId = null;
        long afterSeq = -1;
        Set<String> announced = new HashSet<>();
        JsonNode usage = null;
        boolean turnStartSeen = false;
        long hi = lastSeq;
        while (hi > 0 && lastSeq - hi < MAX_SCAN && (!missing.isEmpty() || (turnId != null && !turnStartSeen))) {
            long lo = Math.max(0, hi - PAGE);
            List<StoredEvent> page = log.readEvents(sessionId, lo, hi, PAGE);
            for (int i = page.size() - 1; i >= 0; i--) {
                StoredEvent e = page.get(i);
                JsonNode data = null;
                if (e.kind() == EventKind.PERMISSION_REQUEST && !missing.isEmpty()) {
                    data = data(e);
                    if (missing.remove(data.path("requestId").asText()) && turnId == null) {
                        turnId = e.turnId();
                        afterSeq = e.seq();
                    }
                }
                if (turnId == null || !turnId.equals(e.turnId()) || e.seq() > afterSeq || turnStartSeen) {
                    continue;
                }
                if (e.kind() == EventKind.USER_MESSAGE) {
                    turnStartSeen = true;
                } else if (e.kind() == EventKind.TOOL_CALL || e.kind() == EventKind.PERMISSION_REQUEST) {
                    announced.add((data == null ? data(e) : data).path("toolCallId").asText());
                } else if (e.kind() == EventKind.USAGE && usage == null) {
                    usage = data(e);
                }
            }
            hi = lo;
        }
        if (!missing.isEmpty()) {
            String first = interruptIds.stream().filter(missing::contains).findFirst().orElseThrow();
            throw new ProtocolException(ErrorCode.NOT_FOUND, "interrupt " + first + " (field 'resume') not found in thread "
                    + sessionId);
        }
        return new ResumePoint(turnId, afterSeq, Set.copyOf(announced), usage);
    }

    private static JsonNode data(StoredEvent e) {
        try {
            return JSON.readTree(e.frame()).path("data");
        } catch (Exception failure) {
            throw new IllegalStateException("stored event " + e.seq() + " of session " + e.sessionId()
                    + " is not JSON", failure);
        }
    }
}

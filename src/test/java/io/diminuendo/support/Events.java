package io.diminuendo.support;

import java.util.List;
import java.util.stream.LongStream;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.protocol.EventKind;

/** Predicates and projections over the {@code event} frames a {@link WsClient} receives. */
public final class Events {
    /** The kinds that end a turn: exactly one of them closes each turn. */
    public static final List<String> TERMINAL_KINDS = EventKind.TERMINAL.stream().map(EventKind::wire).toList();

    private Events() {
    }

    /** Whether {@code frame} is an event of the session {@code sessionId}. */
    public static boolean isEventOf(JsonNode frame, String sessionId) {
        return "event".equals(frame.path("type").asText()) && sessionId.equals(frame.path("sessionId").asText());
    }

    /** Whether {@code event} ends its turn (one of {@link #TERMINAL_KINDS}). */
    public static boolean isTerminal(JsonNode event) {
        return TERMINAL_KINDS.contains(event.path("kind").asText());
    }

    /** The kinds of {@code events}, in order. */
    public static List<String> kinds(List<JsonNode> events) {
        return events.stream().map(e -> e.path("kind").asText()).toList();
    }

    /** The seqs of {@code events}, in order. */
    public static List<Long> seqs(List<JsonNode> events) {
        return events.stream().map(e -> e.path("seq").asLong()).toList();
    }

    /** The seqs {@code fromInclusive..toInclusive}, empty when {@code toInclusive < fromInclusive}. */
    public static List<Long> seqRange(long fromInclusive, long toInclusive) {
        return LongStream.rangeClosed(fromInclusive, toInclusive).boxed().toList();
    }
}

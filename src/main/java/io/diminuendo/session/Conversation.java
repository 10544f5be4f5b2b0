package io.diminuendo.session;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.protocol.EventKind;
import io.diminuendo.store.EventLog;
import io.diminuendo.store.StoredEvent;
import io.diminuendo.upstream.TurnRequest.HistoryMessage;

/**
 * Rebuilds a session's conversation from its stored events, for backends that are sent the history with each
 * turn: every {@code user_message} becomes a user message, the {@code text_delta}s of a turn one assistant
 * message. Reads run on a worker thread after a write barrier, so the events up to the given seq are all there.
 */
final class Conversation {
    /** Events read at most, counted back from the end; older ones are not part of the rebuilt history. */
    static final int MAX_EVENTS = 20_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private Conversation() {
    }

    static CompletionStage<List<HistoryMessage>> load(EventLog store, Executor executor, String sessionId,
            long beforeSeq, int maxMessages) {
        CompletableFuture<List<HistoryMessage>> result = new CompletableFuture<>();
        store.barrier().whenCompleteAsync((ignored, failure) -> {
            try {
                result.complete(build(store, sessionId, beforeSeq, maxMessages));
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        }, executor);
        return result;
    }

    static List<HistoryMessage> build(EventLog store, String sessionId, long beforeSeq, int maxMessages) {
        ArrayDeque<HistoryMessage> messages = new ArrayDeque<>();
        StringBuilder assistant = new StringBuilder();
        long after = Math.max(0, beforeSeq - 1 - MAX_EVENTS);
        while (after < beforeSeq - 1) {
            List<StoredEvent> page = store.readEvents(sessionId, after, beforeSeq - 1, 1000);
            if (page.isEmpty()) {
                break;
            }
            for (StoredEvent e : page) {
                EventKind kind = e.kind();
                if (kind == EventKind.USER_MESSAGE) {
                    flush(assistant, messages, maxMessages);
                    add(messages, new HistoryMessage("user", dataText(e)), maxMessages);
                } else if (kind == EventKind.TEXT_DELTA) {
                    assistant.append(dataText(e));
                } else if (kind != null && kind.isTerminal()) {
                    flush(assistant, messages, maxMessages);
                }
            }
            after = page.get(page.size() - 1).seq();
        }
        flush(assistant, messages, maxMessages);
        return new ArrayList<>(messages);
    }

    private static void flush(StringBuilder assistant, ArrayDeque<HistoryMessage> messages, int max) {
        if (assistant.length() > 0) {
            add(messages, new HistoryMessage("assistant", assistant.toString()), max);
            assistant.setLength(0);
        }
    }

    private static void add(ArrayDeque<HistoryMessage> messages, HistoryMessage m, int max) {
        messages.addLast(m);
        while (messages.size() > max) {
            messages.removeFirst();
        }
    }

    private static String dataText(StoredEvent e) {
        try {
            JsonNode frame = JSON.readTree(e.frame());
            return frame.path("data").path("text").asText("");
        } catch (Exception ex) {
            return "";
        }
    }
}

package io.diminuendo.upstream;

import java.util.List;

/** What a backend needs to run one turn. */
public record TurnRequest(String turnId, String sessionId, String tenantId, String userId, String text,
        List<HistoryMessage> history) {

    /** One earlier message of the conversation. {@code role} is {@code user} or {@code assistant}. */
    public record HistoryMessage(String role, String text) {
    }
}

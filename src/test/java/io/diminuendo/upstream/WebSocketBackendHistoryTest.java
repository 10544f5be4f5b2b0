package io.diminuendo.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class WebSocketBackendHistoryTest {

    @Test
    void keepsTheNewestMessagesThatFitTheBudgetOldestFirst() throws Exception {
        List<TurnRequest.HistoryMessage> history = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            history.add(new TurnRequest.HistoryMessage(i % 2 == 0 ? "user" : "assistant", i + ":" + "x".repeat(4000)));
        }
        String json = WebSocketBackend.historyWithinBudget(history);
        assertThat(json.length()).isLessThanOrEqualTo(WebSocketBackend.HISTORY_BUDGET_CHARS);
        JsonNode kept = new ObjectMapper().readTree(json);
        assertThat(kept.size()).isBetween(20, 40);
        assertThat(kept.get(kept.size() - 1).path("text").asText()).startsWith("99:");
        assertThat(kept.get(0).path("text").asText()).startsWith((100 - kept.size()) + ":");
    }

    @Test
    void aShortHistoryIsSentWhole() throws Exception {
        String json = WebSocketBackend.historyWithinBudget(List.of(new TurnRequest.HistoryMessage("user", "hi \"there\""),
                new TurnRequest.HistoryMessage("assistant", "hello")));
        assertThat(json).isEqualTo("[{\"role\":\"user\",\"text\":\"hi \\\"there\\\"\"},{\"role\":\"assistant\",\"text\":\"hello\"}]");
    }
}

package io.diminuendo.bench;

import java.util.ArrayList;
import java.util.List;

import io.diminuendo.upstream.BackendEvent;

/**
 * A realistic agent turn of exactly {@link #EVENTS} backend events: a short thinking block, a long answer
 * streamed as text deltas (70% of all events), a tool call whose input arrives in fragments, its result, a
 * closing text block, usage and stop. Shared by the mapping benchmarks so their events/s are comparable.
 */
public final class Turns {
    public static final int EVENTS = 100;

    private static final String[] WORDS = {
            "Sure", ", ", "I'll ", "look ", "at ", "the ", "failing ", "test ", "first.", "\n\n", "The ",
            "`EventMapper` ", "joins ", "tool ", "input ", "fragments ", "per ", "block ", "index, ", "so ",
            "a \"quoted\" ", "string ", "needs ", "escaping.\n", "Here ", "is ", "the ", "patch:\n", "```java\n",
            "    out.append(c);\n", "```\n" };

    private Turns() {
    }

    public static BackendEvent[] turn() {
        List<BackendEvent> e = new ArrayList<>(EVENTS);
        e.add(new BackendEvent.MessageStart());
        e.add(new BackendEvent.BlockStart(0, "thinking", null, null));
        for (int i = 0; i < 10; i++) {
            e.add(new BackendEvent.ThinkingDelta(0, "considering step " + i + " of the plan; "));
        }
        e.add(new BackendEvent.BlockStop(0));
        e.add(new BackendEvent.BlockStart(1, "text", null, null));
        for (int i = 0; i < 60; i++) {
            e.add(new BackendEvent.TextDelta(1, WORDS[i % WORDS.length]));
        }
        e.add(new BackendEvent.BlockStop(1));
        e.add(new BackendEvent.BlockStart(2, "tool_use", "toolu_01A09q90qw90lq917835lq9", "bash"));
        String[] fragments = { "{\"comm", "and\": \"", "./mvnw -B ", "-o test ", "-Dtest=", "EventMapperTest", "\", \"timeout\"",
                ": 120}" };
        for (String f : fragments) {
            e.add(new BackendEvent.InputJsonDelta(2, f));
        }
        e.add(new BackendEvent.BlockStop(2));
        e.add(new BackendEvent.ToolResult("toolu_01A09q90qw90lq917835lq9",
                "[{\"type\":\"text\",\"text\":\"Tests run: 12, Failures: 0\"}]", false));
        e.add(new BackendEvent.BlockStart(3, "text", null, null));
        for (int i = 0; i < 10; i++) {
            e.add(new BackendEvent.TextDelta(3, WORDS[(i * 7) % WORDS.length]));
        }
        e.add(new BackendEvent.BlockStop(3));
        e.add(new BackendEvent.MessageDelta("end_turn", 1843L, 412L));
        e.add(new BackendEvent.MessageStop());
        if (e.size() != EVENTS) {
            throw new IllegalStateException("turn has " + e.size() + " events");
        }
        return e.toArray(new BackendEvent[0]);
    }
}

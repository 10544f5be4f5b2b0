package io.diminuendo.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The simulated agent's prompt scripts (docs/protocol.md, "The built-in simulated agent"), checked without running them. */
class SimulatedScriptTest {

    private static List<SimulatedAgent.Step> steps(String prompt) {
        return SimulatedAgent.Script.parse(prompt, 0).steps;
    }

    /** The events of the main path (decision branches not taken). */
    private static List<BackendEvent> events(String prompt) {
        List<BackendEvent> out = new ArrayList<>();
        for (SimulatedAgent.Step s : steps(prompt)) {
            if (s.event() != null) {
                out.add(s.event());
            }
        }
        return out;
    }

    private static long count(List<BackendEvent> events, Class<? extends BackendEvent> type) {
        return events.stream().filter(type::isInstance).count();
    }

    /** Event types in order, with the prompt-dependent input token count of the usage left out. */
    private static List<String> shape(List<BackendEvent> events) {
        return events.stream().map(e -> e instanceof BackendEvent.MessageDelta d
                ? "MessageDelta(" + d.stopReason() + "," + d.outputTokens() + ")"
                : e.toString()).toList();
    }

    /** Maps the script's main path through the real mapper and returns the client kinds. */
    private static List<String> clientKinds(List<BackendEvent> events) {
        EventMapper mapper = new EventMapper(null);
        List<String> kinds = new ArrayList<>();
        for (BackendEvent e : events) {
            mapper.map(e, (kind, data) -> kinds.add(kind.wire()));
        }
        return kinds;
    }

    @Test
    void tokensSevenYieldsExactlySevenTextDeltasAndCompletes() {
        List<BackendEvent> events = events("/sim tokens=7");

        assertThat(count(events, BackendEvent.TextDelta.class)).isEqualTo(7);
        assertThat(events.get(0)).isInstanceOf(BackendEvent.MessageStart.class);
        assertThat(events.get(events.size() - 1)).isInstanceOf(BackendEvent.MessageStop.class);
        assertThat(count(events, BackendEvent.ThinkingDelta.class)).isZero();
        assertThat(count(events, BackendEvent.Error.class)).isZero();
        assertThat(clientKinds(events).stream().filter("text_delta"::equals).count()).isEqualTo(7);
    }

    @Test
    void tokensZeroAndHugeCountsAreHonoured() {
        assertThat(count(events("/sim tokens=0"), BackendEvent.TextDelta.class)).isZero();
        assertThat(count(events("/sim tokens=3000"), BackendEvent.TextDelta.class)).isEqualTo(3000);
        assertThat(count(events("  /sim   tokens=12  "), BackendEvent.TextDelta.class)).isEqualTo(12);
    }

    @Test
    void delayMsIsAppliedToEveryTextDelta() {
        for (SimulatedAgent.Step s : steps("/sim tokens=5 delay_ms=25")) {
            if (s.event() instanceof BackendEvent.TextDelta) {
                assertThat(s.delayMs()).isEqualTo(25);
            }
        }
        assertThat(steps("/sim tokens=5").stream().mapToLong(SimulatedAgent.Step::delayMs).sum()).isZero();
    }

    @Test
    void directivesCombineInTheDocumentedOrder() {
        List<BackendEvent> events = events("/sim thinking tool tokens=20");

        assertThat(count(events, BackendEvent.ThinkingDelta.class)).isPositive();
        assertThat(count(events, BackendEvent.InputJsonDelta.class)).isGreaterThan(1);
        assertThat(count(events, BackendEvent.ToolResult.class)).isEqualTo(1);
        assertThat(count(events, BackendEvent.TextDelta.class)).isEqualTo(20);

        List<String> kinds = clientKinds(events);
        assertThat(kinds.indexOf("thinking_delta")).isLessThan(kinds.indexOf("tool_call"));
        assertThat(kinds.indexOf("tool_call")).isLessThan(kinds.indexOf("tool_result"));
        assertThat(kinds.lastIndexOf("thinking_delta")).isLessThan(kinds.indexOf("text_delta"));
        assertThat(kinds.indexOf("tool_result")).isLessThan(kinds.indexOf("text_delta"));
        assertThat(kinds.get(kinds.size() - 1)).isEqualTo("turn_completed");
        assertThat(kinds.stream().filter("tool_call"::equals).count()).isEqualTo(1);
    }

    @Test
    void errorCombinedWithTokensStreamsTheTokensThenFails() {
        List<BackendEvent> events = events("/sim error tokens=4");

        assertThat(count(events, BackendEvent.TextDelta.class)).isEqualTo(4);
        assertThat(events.get(events.size() - 1)).isEqualTo(
                new BackendEvent.Error("agent_error", "the simulated agent failed on purpose (/sim error)"));
        assertThat(count(events, BackendEvent.MessageStop.class)).isZero();
    }

    @Test
    void permissionWaitsForADecisionWithBothBranchesScripted() {
        List<SimulatedAgent.Step> steps = steps("/sim permission");
        SimulatedAgent.Step decision = steps.stream().filter(s -> s.onAllow() != null).findFirst().orElseThrow();

        BackendEvent.PermissionRequest request = (BackendEvent.PermissionRequest) steps.get(steps.indexOf(decision) - 1)
                .event();
        assertThat(request.requestId()).isNotBlank();
        assertThat(decision.onAllow()).anyMatch(s -> s.event() instanceof BackendEvent.ToolResult r
                && r.toolUseId().equals(request.toolUseId()));
        assertThat(decision.onDeny()).noneMatch(s -> s.event() instanceof BackendEvent.ToolResult);
        assertThat(decision.onDeny()).anyMatch(s -> s.event() instanceof BackendEvent.TextDelta);
    }

    @Test
    void hangEmitsOneDeltaAndThenStops() {
        List<SimulatedAgent.Step> steps = steps("/sim hang");

        assertThat(steps.get(steps.size() - 1).hang()).isTrue();
        assertThat(count(events("/sim hang"), BackendEvent.TextDelta.class)).isEqualTo(1);
        assertThat(count(events("/sim hang"), BackendEvent.MessageStop.class)).isZero();
    }

    @Test
    void unknownDirectivesAreIgnored() {
        assertThat(shape(events("/sim frobnicate tokens=3 colour=blue --fast")))
                .isEqualTo(shape(events("/sim tokens=3")));
        assertThat(shape(events("/sim tool wibble"))).isEqualTo(shape(events("/sim tool")));
    }

    @Test
    void malformedNumbersFallBackToZeroAndNegativeIsClamped() {
        assertThat(count(events("/sim tokens=lots"), BackendEvent.TextDelta.class)).isZero();
        assertThat(count(events("/sim tokens=-5"), BackendEvent.TextDelta.class)).isZero();
    }

    @Test
    void aPromptWithoutSimIsEchoed() {
        List<BackendEvent> events = events("hello there");

        StringBuilder text = new StringBuilder();
        for (BackendEvent e : events) {
            if (e instanceof BackendEvent.TextDelta d) {
                text.append(d.text());
            }
        }
        assertThat(text.toString()).isEqualTo("You said: hello there");
        assertThat(events).anyMatch(e -> e instanceof BackendEvent.MessageDelta d && "end_turn".equals(d.stopReason())
                && d.outputTokens() != null);
        assertThat(events.get(events.size() - 1)).isInstanceOf(BackendEvent.MessageStop.class);
    }
}

package io.diminuendo.upstream;

import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.protocol.Json;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

/**
 * The built-in simulated agent (docs/protocol.md, "The built-in simulated agent"). Its reply is scripted by the prompt ({@code /sim tokens=N
 * delay_ms=D thinking tool permission error hang}) and played on a Vert.x event loop with timers, emitting the
 * same §3 events a real backend sends, so every turn exercises the real {@link EventMapper}.
 */
@ApplicationScoped
public class SimulatedAgent implements AgentBackend {
    public static final String NAME = "simulated";
    private static final int BURST = 256;

    private final Vertx vertx;
    private final long echoDelayMs;

    public SimulatedAgent(Vertx vertx, GatewayConfig config) {
        this.vertx = vertx;
        this.echoDelayMs = config.simulator().echoDelay().toMillis();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean isUp() {
        return true;
    }

    @Override
    public double latencyMs() {
        return 0;
    }

    @Override
    public long checkedAt() {
        return System.currentTimeMillis();
    }

    @Override
    public boolean needsHistory() {
        return false;
    }

    @Override
    public TurnHandle start(TurnRequest request, TurnSink sink) {
        Script script = Script.parse(request.text(), echoDelayMs);
        Run run = new Run(vertx.getOrCreateContext(), script.steps, sink);
        run.context.runOnContext(v -> run.advance());
        return run;
    }

    /** One step of a script: an event to emit after a delay, a wait for a permission decision, or a hang. */
    record Step(BackendEvent event, long delayMs, List<Step> onAllow, List<Step> onDeny, boolean hang) {
        static Step emit(BackendEvent event, long delayMs) {
            return new Step(event, delayMs, null, null, false);
        }
    }

    /** Builds the steps for a prompt. */
    static final class Script {
        final List<Step> steps = new ArrayList<>();

        static Script parse(String prompt, long echoDelayMs) {
            Script s = new Script();
            String trimmed = prompt.strip();
            if (!trimmed.startsWith("/sim")) {
                s.echo(trimmed, echoDelayMs);
                return s;
            }
            int tokens = -1;
            long delay = 0;
            boolean thinking = false;
            boolean tool = false;
            boolean permission = false;
            boolean error = false;
            boolean hang = false;
            for (String word : trimmed.substring(4).trim().split("\\s+")) {
                if (word.startsWith("tokens=")) {
                    tokens = parseInt(word.substring(7), 100_000_000);
                } else if (word.startsWith("delay_ms=")) {
                    delay = parseInt(word.substring(9), 60_000);
                } else {
                    switch (word) {
                        case "thinking" -> thinking = true;
                        case "tool" -> tool = true;
                        case "permission" -> permission = true;
                        case "error" -> error = true;
                        case "hang" -> hang = true;
                        default -> {
                        }
                    }
                }
            }
            s.add(new BackendEvent.MessageStart(), 0);
            int index = 0;
            if (thinking) {
                s.add(new BackendEvent.BlockStart(index, "thinking", null, null), delay);
                for (String t : new String[] {"Let me think ", "about how ", "to answer this."}) {
                    s.add(new BackendEvent.ThinkingDelta(index, t), delay);
                }
                s.add(new BackendEvent.BlockStop(index++), 0);
            }
            if (tool) {
                String id = "toolu_sim_" + index;
                s.add(new BackendEvent.BlockStart(index, "tool_use", id, "read_file"), delay);
                for (String part : new String[] {"{\"pa", "th\": \"src/", "main.txt\", \"li", "mit\": 10}"}) {
                    s.add(new BackendEvent.InputJsonDelta(index, part), delay);
                }
                s.add(new BackendEvent.BlockStop(index++), 0);
                s.add(new BackendEvent.ToolResult(id, Json.quote("hello from the simulated file"), false), delay);
            }
            if (permission) {
                String toolId = "toolu_sim_" + index;
                String requestId = "perm_" + Long.toHexString(System.nanoTime());
                s.add(new BackendEvent.PermissionRequest(requestId, toolId, "run_command", "{\"command\":\"ls -la\"}"), delay);
                List<Step> allow = List.of(
                        Step.emit(new BackendEvent.ToolResult(toolId, Json.quote("total 0"), false), delay),
                        Step.emit(new BackendEvent.BlockStart(index, "text", null, null), 0),
                        Step.emit(new BackendEvent.TextDelta(index, "The command ran."), delay),
                        Step.emit(new BackendEvent.BlockStop(index), 0));
                List<Step> deny = List.of(
                        Step.emit(new BackendEvent.BlockStart(index, "text", null, null), 0),
                        Step.emit(new BackendEvent.TextDelta(index, "Permission denied, so I did not run the command."), delay),
                        Step.emit(new BackendEvent.BlockStop(index), 0));
                s.steps.add(new Step(null, 0, allow, deny, false));
                index++;
            }
            if (hang) {
                s.add(new BackendEvent.BlockStart(index, "text", null, null), 0);
                s.add(new BackendEvent.TextDelta(index, "Working"), delay);
                s.steps.add(new Step(null, 0, null, null, true));
                return s;
            }
            int textDeltas = tokens >= 0 ? tokens : (error ? 2 : (thinking || tool || permission ? 3 : 5));
            s.add(new BackendEvent.BlockStart(index, "text", null, null), 0);
            for (int i = 0; i < textDeltas; i++) {
                s.add(new BackendEvent.TextDelta(index, "tok" + i + " "), delay);
            }
            s.add(new BackendEvent.BlockStop(index), 0);
            if (error) {
                s.add(new BackendEvent.Error("agent_error", "the simulated agent failed on purpose (/sim error)"), delay);
                return s;
            }
            s.finish(trimmed, textDeltas);
            return s;
        }

        private void echo(String prompt, long delayMs) {
            add(new BackendEvent.MessageStart(), 0);
            add(new BackendEvent.BlockStart(0, "text", null, null), 0);
            String[] words = ("You said: " + prompt).split("(?<= )");
            int n = Math.min(words.length, 64);
            for (int i = 0; i < n; i++) {
                add(new BackendEvent.TextDelta(0, words[i]), delayMs);
            }
            add(new BackendEvent.BlockStop(0), 0);
            finish(prompt, n);
        }

        private void finish(String prompt, int outputTokens) {
            add(new BackendEvent.MessageDelta("end_turn", (long) prompt.split("\\s+").length, (long) outputTokens), 0);
            add(new BackendEvent.MessageStop(), 0);
        }

        private void add(BackendEvent event, long delayMs) {
            steps.add(Step.emit(event, delayMs));
        }

        private static int parseInt(String s, int max) {
            try {
                return Math.max(0, Math.min(max, Integer.parseInt(s)));
            } catch (NumberFormatException e) {
                return 0;
            }
        }
    }

    /** Plays a script on one event-loop context, pausing for delays, flow control and permission decisions. */
    private static final class Run implements TurnHandle {
        final Context context;
        private final List<Step> steps;
        private final TurnSink sink;
        private int position;
        private boolean delayDone;
        private volatile boolean cancelled;
        private String decision;
        private boolean waitingForDecision;

        Run(Context context, List<Step> steps, TurnSink sink) {
            this.context = context;
            this.steps = new ArrayList<>(steps);
            this.sink = sink;
        }

        void advance() {
            int burst = 0;
            while (position < steps.size()) {
                if (cancelled || sink.isEnded()) {
                    return;
                }
                Step step = steps.get(position);
                if (step.hang()) {
                    return;
                }
                if (step.onAllow() != null) {
                    if (decision == null) {
                        waitingForDecision = true;
                        return;
                    }
                    waitingForDecision = false;
                    steps.remove(position);
                    steps.addAll(position, "allow".equals(decision) ? step.onAllow() : step.onDeny());
                    continue;
                }
                if (step.delayMs() > 0 && !delayDone) {
                    delayDone = true;
                    context.owner().setTimer(step.delayMs(), id -> advance());
                    return;
                }
                delayDone = false;
                position++;
                if (!sink.emit(step.event())) {
                    sink.whenReady(() -> context.runOnContext(v -> advance()));
                    return;
                }
                if (++burst == BURST) {
                    context.runOnContext(v -> advance());
                    return;
                }
            }
        }

        @Override
        public void cancel() {
            cancelled = true;
        }

        @Override
        public void permissionDecision(String requestId, String decision) {
            context.runOnContext(v -> {
                this.decision = decision;
                if (waitingForDecision) {
                    advance();
                }
            });
        }
    }
}

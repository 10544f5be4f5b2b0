package io.diminuendo.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;

/**
 * {@link OpenAiBackend} without the gateway: URL handling, error excerpts, and flow control against the fake
 * server with a sink that keeps asking it to pause.
 */
class OpenAiBackendUnitTest {
    private static Vertx vertx;
    private static FakeOpenAiServer server;

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        server = FakeOpenAiServer.start();
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    static GatewayConfig.Backend config(String url, Duration idleTimeout) {
        return new GatewayConfig.Backend() {
            public GatewayConfig.BackendKind kind() {
                return GatewayConfig.BackendKind.OPENAI;
            }

            public Optional<String> url() {
                return Optional.of(url);
            }

            public Optional<String> apiKey() {
                return Optional.of("unit-key");
            }

            public Optional<String> model() {
                return Optional.of("unit-model");
            }

            public Duration connectTimeout() {
                return Duration.ofSeconds(2);
            }

            public Duration idleTimeout() {
                return idleTimeout;
            }

            public Duration heartbeatInterval() {
                return Duration.ofSeconds(5);
            }

            public Duration reconnectMin() {
                return Duration.ofMillis(250);
            }

            public Duration reconnectMax() {
                return Duration.ofSeconds(10);
            }

            public int maxHistoryMessages() {
                return 50;
            }
        };
    }

    @Test
    void theEndpointIsTheBaseUrlPlusV1ChatCompletionsWithoutDoublingV1() {
        assertThat(OpenAiBackend.endpoint("x", "http://localhost:8000")).isEqualTo("http://localhost:8000/v1/chat/completions");
        assertThat(OpenAiBackend.endpoint("x", "http://localhost:11434/")).isEqualTo("http://localhost:11434/v1/chat/completions");
        assertThat(OpenAiBackend.endpoint("x", "https://api.openai.com/v1")).isEqualTo("https://api.openai.com/v1/chat/completions");
        assertThat(OpenAiBackend.endpoint("x", "https://proxy.example/openai/v1/")).isEqualTo("https://proxy.example/openai/v1/chat/completions");
        assertThatThrownBy(() -> OpenAiBackend.endpoint("x", "localhost:8000")).hasMessageContaining("diminuendo.backends.x.url");
        assertThatThrownBy(() -> OpenAiBackend.endpoint("x", "ws://localhost:8000")).hasMessageContaining("http://");
    }

    @Test
    void stopReasonsAreMappedToTheSection3Vocabulary() {
        assertThat(OpenAiBackend.stopReason("stop")).isEqualTo("end_turn");
        assertThat(OpenAiBackend.stopReason("length")).isEqualTo("max_tokens");
        assertThat(OpenAiBackend.stopReason("tool_calls")).isEqualTo("tool_use");
        assertThat(OpenAiBackend.stopReason("content_filter")).isEqualTo("content_filter");
    }

    @Test
    void errorDetailsComeFromTheCommonErrorShapesOrTheTextItself() {
        assertThat(OpenAiBackend.errorDetail(FakeOpenAiServer.resource("401.json"))).startsWith("Incorrect API key provided");
        assertThat(OpenAiBackend.errorDetail("{\"error\":\"model 'llama9' not found\"}")).isEqualTo("model 'llama9' not found");
        assertThat(OpenAiBackend.errorDetail("{\"message\":\"bad\"}")).isEqualTo("bad");
        assertThat(OpenAiBackend.errorDetail("<html>\n<body>502   Bad Gateway</body></html>")).isEqualTo("<html> <body>502 Bad Gateway</body></html>");
        assertThat(OpenAiBackend.errorDetail("x".repeat(500))).hasSize(201);
        assertThat(OpenAiBackend.errorDetail("")).isEmpty();
    }

    /**
     * A sink that answers false to every third event (three times) and becomes ready only 1.2 s later, longer
     * than the idle timeout: no event may arrive while paused, the idle timer must not fire, and the turn still
     * completes whole. A first turn warms the HTTP client up so that start-up costs are not taken for silence.
     */
    @Test
    void aPausedTurnGetsNoEventsUntilReadyAndDoesNotTimeOutWhilePaused() throws Exception {
        OpenAiBackend warm = new OpenAiBackend("warm", config(server.url(), Duration.ofSeconds(30)), vertx,
                new GatewayMetrics(new SimpleMeterRegistry()));
        CompletableFuture<BackendEvent> warmed = new CompletableFuture<>();
        warm.start(new TurnRequest("t0", "s0", "acme", "alice", "plain-text", List.of()), new TurnSink() {
            @Override
            public boolean emit(BackendEvent event) {
                if (event instanceof BackendEvent.MessageStop || event instanceof BackendEvent.Error) {
                    warmed.complete(event);
                }
                return true;
            }

            @Override
            public void whenReady(Runnable resume) {
                resume.run();
            }

            @Override
            public boolean isEnded() {
                return warmed.isDone();
            }
        });
        assertThat(warmed.get(30, TimeUnit.SECONDS)).isInstanceOf(BackendEvent.MessageStop.class);
        warm.close();

        OpenAiBackend backend = new OpenAiBackend("unit", config(server.url(), Duration.ofMillis(800)), vertx,
                new GatewayMetrics(new SimpleMeterRegistry()));
        List<BackendEvent> events = new ArrayList<>();
        AtomicBoolean paused = new AtomicBoolean();
        AtomicInteger violations = new AtomicInteger();
        AtomicInteger pauses = new AtomicInteger();
        CompletableFuture<Void> done = new CompletableFuture<>();
        TurnSink sink = new TurnSink() {
            @Override
            public synchronized boolean emit(BackendEvent event) {
                if (paused.get()) {
                    violations.incrementAndGet();
                }
                events.add(event);
                if (event instanceof BackendEvent.MessageStop || event instanceof BackendEvent.Error) {
                    done.complete(null);
                    return true;
                }
                if (events.size() % 3 == 0 && pauses.get() < 3) {
                    paused.set(true);
                    pauses.incrementAndGet();
                    return false;
                }
                return true;
            }

            @Override
            public void whenReady(Runnable resume) {
                vertx.setTimer(1200, id -> {
                    paused.set(false);
                    resume.run();
                });
            }

            @Override
            public boolean isEnded() {
                return done.isDone();
            }
        };
        backend.start(new TurnRequest("t1", "s1", "acme", "alice", "tool-call", List.of()), sink);
        done.get(30, TimeUnit.SECONDS);
        backend.close();
        assertThat(events.get(events.size() - 1)).as("%s", events).isInstanceOf(BackendEvent.MessageStop.class);
        assertThat(violations.get()).as("events emitted while paused").isZero();
        assertThat(pauses.get()).isEqualTo(3);
        StringBuilder weather = new StringBuilder();
        for (BackendEvent e : events) {
            if (e instanceof BackendEvent.InputJsonDelta d && d.index() == OpenAiBackend.TOOL_BLOCK_BASE) {
                weather.append(d.partialJson());
            }
        }
        assertThat(weather.toString())
                .isEqualTo("{\"location\":\"Paris, France\",\"unit\":\"celsius\",\"days\":3,\"note\":\"café ☕\"}");
        assertThat(backend.latencyMs()).isPositive();
        assertThat(backend.isUp()).isTrue();
    }
}

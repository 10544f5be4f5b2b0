package io.diminuendo.upstream;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.vertx.core.Vertx;

/** OpenAI-compatible streaming chat completions backend (being implemented; not yet usable). */
public final class OpenAiBackend implements AgentBackend {
    private final String name;

    public OpenAiBackend(String name, GatewayConfig.Backend config, Vertx vertx, GatewayMetrics metrics) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean isUp() {
        return false;
    }

    @Override
    public double latencyMs() {
        return -1;
    }

    @Override
    public long checkedAt() {
        return 0;
    }

    @Override
    public TurnHandle start(TurnRequest request, TurnSink sink) {
        sink.emit(new BackendEvent.Error("unavailable", "the openai backend kind is not available yet"));
        return null;
    }
}

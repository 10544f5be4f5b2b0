package io.diminuendo.upstream;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.config.GatewayConfig;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.ext.web.Router;

/**
 * The simulated agent served as a §3 backend at {@code /agent}, so the same build can run as a standalone
 * simulator process ({@code -Dquarkus.profile=simulator}) that gateways reach through a {@code websocket}
 * backend. Only registered when {@code diminuendo.simulator.serve-agent-endpoint} is true.
 */
@ApplicationScoped
public class AgentEndpoint {
    private static final Logger LOG = Logger.getLogger(AgentEndpoint.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SimulatedAgent simulator;
    private final boolean enabled;

    public AgentEndpoint(SimulatedAgent simulator, GatewayConfig config) {
        this.simulator = simulator;
        this.enabled = config.simulator().serveAgentEndpoint();
    }

    void register(@Observes Router router) {
        if (!enabled) {
            return;
        }
        router.get("/agent").handler(ctx -> ctx.request().toWebSocket()
                .onSuccess(ws -> new Peer(ws).listen())
                .onFailure(e -> LOG.debugf("agent upgrade failed: %s", e.getMessage())));
        LOG.info("serving the simulated agent as a backend at /agent");
    }

    /** One gateway connected to the simulator; its turns are multiplexed by turn id. */
    private final class Peer {
        private final ServerWebSocket ws;
        private final Map<String, TurnHandle> turns = new ConcurrentHashMap<>();
        private final List<Runnable> waitingForDrain = new ArrayList<>();

        Peer(ServerWebSocket ws) {
            this.ws = ws;
        }

        void listen() {
            ws.textMessageHandler(this::onOp);
            ws.drainHandler(v -> {
                List<Runnable> ready = new ArrayList<>(waitingForDrain);
                waitingForDrain.clear();
                ready.forEach(Runnable::run);
            });
            ws.closeHandler(v -> turns.values().forEach(TurnHandle::cancel));
        }

        private void onOp(String text) {
            JsonNode op;
            try {
                op = JSON.readTree(text);
            } catch (Exception e) {
                return;
            }
            String turnId = op.path("turnId").asText("");
            switch (op.path("op").asText("")) {
                case "start_turn" -> {
                    TurnRequest request = new TurnRequest(turnId, op.path("sessionId").asText(),
                            op.path("tenantId").asText(), op.path("userId").asText(),
                            op.path("input").path("text").asText(""), List.of());
                    turns.put(turnId, simulator.start(request, new SocketSink(turnId)));
                }
                case "cancel_turn" -> {
                    TurnHandle t = turns.remove(turnId);
                    if (t != null) {
                        t.cancel();
                    }
                }
                case "permission_decision" -> {
                    TurnHandle t = turns.get(turnId);
                    if (t != null) {
                        t.permissionDecision(op.path("requestId").asText(), op.path("decision").asText());
                    }
                }
                default -> {
                }
            }
        }

        /** Writes a turn's events to the gateway; asks the script to pause while the socket's write queue is full. */
        private final class SocketSink implements TurnSink {
            private final String turnId;
            private volatile boolean ended;

            SocketSink(String turnId) {
                this.turnId = turnId;
            }

            @Override
            public boolean emit(BackendEvent event) {
                if (ended) {
                    return true;
                }
                if (event.endsTurn()) {
                    ended = true;
                    turns.remove(turnId);
                }
                ws.writeTextMessage(BackendEventCodec.encode(turnId, event));
                return !ws.writeQueueFull();
            }

            @Override
            public void whenReady(Runnable resume) {
                if (ws.writeQueueFull()) {
                    waitingForDrain.add(resume);
                } else {
                    resume.run();
                }
            }

            @Override
            public boolean isEnded() {
                return ended || ws.isClosed();
            }
        }
    }
}

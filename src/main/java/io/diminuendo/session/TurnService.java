package io.diminuendo.session;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.diminuendo.auth.Identity;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.EventKind;
import io.diminuendo.protocol.Json;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.store.EventLog;
import io.diminuendo.upstream.AgentBackend;
import io.diminuendo.upstream.Backends;
import io.diminuendo.upstream.EventMapper;
import io.diminuendo.upstream.TurnRequest;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.core.Vertx;

/** Starts, cancels and steers turns: {@code send_message}, {@code cancel_turn}, {@code permission_decision}. */
@ApplicationScoped
public class TurnService {
    private static final Logger LOG = Logger.getLogger(TurnService.class);
    private final SessionRegistry registry;
    private final EventLog store;
    private final Backends backends;
    private final GatewayMetrics metrics;
    private final Vertx vertx;
    private final long timeoutMs;
    private final GatewayConfig config;
    private final Executor executor = Infrastructure.getDefaultWorkerPool();
    private final AtomicInteger running = new AtomicInteger();

    public TurnService(SessionRegistry registry, EventLog store, Backends backends, GatewayMetrics metrics,
            Vertx vertx, GatewayConfig config) {
        this.registry = registry;
        this.store = store;
        this.backends = backends;
        this.metrics = metrics;
        this.vertx = vertx;
        this.timeoutMs = config.turns().timeout().toMillis();
        this.config = config;
        metrics.gauge("diminuendo.turns.running", "Turns currently running", running::get);
    }

    /**
     * Starts a turn: publishes {@code user_message} and {@code turn_started}, hands the prompt to the backend, and
     * completes with the turn id once the user message is committed.
     */
    public CompletionStage<String> send(Identity who, String sessionId, String text, String clientMessageId) {
        SessionRegistry.requireWrite(who);
        SessionState s = registry.require(who, sessionId);
        AgentBackend backend = backends.get(s.record().agent());
        if (backend == null) {
            throw ProtocolException.unavailable("agent backend '" + s.record().agent() + "' is not configured");
        }
        String turnId = UUID.randomUUID().toString();
        synchronized (s.lock()) {
            if (s.isDeleted()) {
                throw ProtocolException.notFound("session", sessionId);
            }
            if (s.isArchived()) {
                throw ProtocolException.conflict("session " + sessionId + " is archived");
            }
            Turn current = s.activeTurn();
            if (current != null) {
                throw ProtocolException.conflict("turn " + current.id() + " is still running in session " + sessionId);
            }
            if (!backend.isUp()) {
                throw ProtocolException.unavailable("agent backend '" + backend.name() + "' is unavailable");
            }
            String userMessage = Json.obj().str("text", text).str("userId", who.userId())
                    .strIfPresent("clientMessageId", clientMessageId).end();
            if (!s.stream().tryPublish(turnId, EventKind.USER_MESSAGE, userMessage)) {
                metrics.writerRejections.increment();
                throw ClientErrors.overloaded();
            }
            long userMessageSeq = s.stream().lastSeq();
            running.incrementAndGet();
            long[] timer = new long[1];
            Turn turn = new Turn(turnId, s, store, new EventMapper(metrics), executor, () -> {
                running.decrementAndGet();
                vertx.cancelTimer(timer[0]);
            }, metrics.streamPauses::increment);
            s.activeTurn(turn);
            turn.publish(EventKind.TURN_STARTED, "{}");
            timer[0] = vertx.setTimer(timeoutMs, id -> {
                synchronized (s.lock()) {
                    turn.fail("timeout", "the turn ran longer than " + timeoutMs + " ms");
                }
            });
            if (!backend.needsHistory()) {
                startAtBackend(backend, turn, new TurnRequest(turnId, sessionId, who.tenantId(), who.userId(), text, List.of()));
            } else {
                Conversation.load(store, executor, sessionId, userMessageSeq, maxHistory(backend)).whenComplete((history, failure) -> {
                    synchronized (s.lock()) {
                        if (failure != null) {
                            turn.fail("history_unavailable", "could not read the session's history for the backend");
                        } else if (!turn.isEnded()) {
                            startAtBackend(backend, turn,
                                    new TurnRequest(turnId, sessionId, who.tenantId(), who.userId(), text, history));
                        }
                    }
                });
            }
        }
        return store.barrier().thenApply(v -> turnId);
    }

    /** Hands the turn to its backend; a backend that throws ends the turn instead of leaving it running. */
    private static void startAtBackend(AgentBackend backend, Turn turn, TurnRequest request) {
        try {
            turn.handle(backend.start(request, turn));
        } catch (RuntimeException e) {
            LOG.errorf(e, "backend %s failed to start turn %s", backend.name(), turn.id());
            turn.fail("backend_error", "agent backend '" + backend.name() + "' could not start the turn");
        }
    }

    private int maxHistory(AgentBackend backend) {
        GatewayConfig.Backend settings = config.backends().get(backend.name());
        return settings == null ? 50 : settings.maxHistoryMessages();
    }

    /**
     * Cancels the running turn. {@code acknowledge} receives the turn id before the stream gets
     * {@code turn_cancelled}, so the direct reply precedes the event.
     */
    public void cancel(Identity who, String sessionId, Consumer<String> acknowledge) {
        SessionRegistry.requireWrite(who);
        SessionState s = registry.require(who, sessionId);
        synchronized (s.lock()) {
            Turn turn = s.activeTurn();
            if (turn == null || turn.isEnded()) {
                throw ProtocolException.conflict("no turn is running in session " + sessionId);
            }
            acknowledge.accept(turn.id());
            turn.cancel(who.userId());
        }
    }

    /** Answers a pending {@code permission_request}; {@code acknowledge} runs before {@code permission_resolved}. */
    public void decide(Identity who, String sessionId, String requestId, String decision, Runnable acknowledge) {
        SessionRegistry.requireWrite(who);
        SessionState s = registry.require(who, sessionId);
        synchronized (s.lock()) {
            if (s.isPermissionResolved(requestId)) {
                throw ProtocolException.conflict("permission request " + requestId + " was already resolved");
            }
            Turn turn = s.activeTurn();
            if (turn == null) {
                throw ProtocolException.notFound("permission request", requestId);
            }
            turn.decide(requestId, decision, who.userId(), acknowledge);
        }
    }

    /** Ends every running turn with {@code turn_failed} (code {@code gateway_shutdown}); part of the graceful stop. */
    public void failRunningTurns() {
        for (SessionState s : registry.all()) {
            synchronized (s.lock()) {
                Turn turn = s.activeTurn();
                if (turn != null) {
                    turn.fail("gateway_shutdown", "the gateway is shutting down; send the message again");
                }
            }
        }
    }

    public int runningTurns() {
        return running.get();
    }
}

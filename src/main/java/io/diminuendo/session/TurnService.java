package io.diminuendo.session;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.diminuendo.auth.Identity;
import io.diminuendo.cluster.Broker;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.EventKind;
import io.diminuendo.protocol.Json;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.store.EventLog;
import io.diminuendo.store.Leases;
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
    private static final CompletionStage<Void> DONE = CompletableFuture.completedFuture(null);
    private final Broker broker;
    private final Leases leases;
    private final CommandRouter router;
    private final Duration leaseExpiry;
    /** Sessions whose lease this pod holds for a running turn (cluster mode). */
    private final Set<String> leased = ConcurrentHashMap.newKeySet();

    public TurnService(SessionRegistry registry, EventLog store, Backends backends, GatewayMetrics metrics,
            Vertx vertx, GatewayConfig config, Broker broker, Leases leases, CommandRouter router) {
        this.registry = registry;
        this.store = store;
        this.backends = backends;
        this.metrics = metrics;
        this.vertx = vertx;
        this.timeoutMs = config.turns().timeout().toMillis();
        this.config = config;
        this.broker = broker;
        this.leases = leases;
        this.router = router;
        this.leaseExpiry = config.cluster().leaseExpiry();
        metrics.gauge("diminuendo.turns.running", "Turns currently running", running::get);
        if (broker.clustered()) {
            vertx.setPeriodic(Math.max(100, leaseExpiry.toMillis() / 3), id -> renewLeases());
        }
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
        if (!broker.clustered()) {
            return start(who, s, backend, turnId, text, clientMessageId);
        }
        synchronized (s.lock()) {
            refuseUnlessIdle(s, backend);
        }
        // the lease makes this pod the session's only sequencer while the turn runs; the store tells where the
        // stream is (other pods' events may still be on their way here)
        return CompletableFuture.supplyAsync(() -> {
            Leases.Holder holder = leases.acquire(sessionId, turnId, leaseExpiry);
            if (holder != null) {
                throw ProtocolException.conflict("turn " + holder.turnId() + " is still running in session " + sessionId);
            }
            return leases.lastStoredSeq(sessionId);
        }, executor).thenCompose(stored -> {
            s.stream().advanceTo(stored);
            try {
                return start(who, s, backend, turnId, text, clientMessageId);
            } catch (RuntimeException e) {
                releaseLater(sessionId, turnId);
                throw e;
            }
        });
    }

    /** Refuses a turn in a deleted or archived session, one with a turn running, or with its backend down. */
    private static void refuseUnlessIdle(SessionState s, AgentBackend backend) {
        s.requireLive();
        if (s.isArchived()) {
            throw ProtocolException.conflict("session " + s.id() + " is archived");
        }
        Turn current = s.activeTurn();
        if (current != null) {
            throw ProtocolException.conflict("turn " + current.id() + " is still running in session " + s.id());
        }
        // a turn on another pod is not checked here: its lease is (a terminal event missed on the bus must not
        // leave the session refusing turns)
        if (!backend.isUp()) {
            throw ProtocolException.unavailable("agent backend '" + backend.name() + "' is unavailable");
        }
    }

    private CompletionStage<String> start(Identity who, SessionState s, AgentBackend backend, String turnId,
            String text, String clientMessageId) {
        String sessionId = s.id();
        synchronized (s.lock()) {
            if (broker.clustered()) {
                // this pod holds the lease now: a turn it still remembers on another pod has ended there
                s.remoteTurn(null);
            }
            refuseUnlessIdle(s, backend);
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
                if (broker.clustered()) {
                    leased.remove(sessionId);
                    store.barrier().whenComplete((ok, failure) -> releaseLater(sessionId, turnId));
                }
            }, metrics.streamPauses::increment);
            if (broker.clustered()) {
                leased.add(sessionId);
            }
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
        return store.acknowledgement().thenApply(v -> turnId);
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
    public CompletionStage<Void> cancel(Identity who, String sessionId, Consumer<String> acknowledge) {
        SessionRegistry.requireWrite(who);
        SessionState s = registry.require(who, sessionId);
        SessionState.RemoteTurn remote;
        synchronized (s.lock()) {
            s.requireLive();
            Turn turn = s.activeTurn();
            remote = s.remoteTurn();
            if (turn == null || turn.isEnded()) {
                if (remote == null) {
                    throw ProtocolException.conflict("no turn is running in session " + sessionId);
                }
            } else {
                acknowledge.accept(turn.id());
                turn.cancel(who.userId());
                return DONE;
            }
        }
        return router.route(remote.pod(), RoutedCommand.cancel(who, sessionId)).thenAccept(acknowledge::accept);
    }

    /**
     * Cancels turn {@code turnId} of the session if it is still running, as {@code cancel_turn} by {@code who} would;
     * completes with false, changing nothing, when that turn has ended (another may run by now).
     */
    public CompletionStage<Boolean> cancelIfRunning(Identity who, String sessionId, String turnId) {
        SessionRegistry.requireWrite(who);
        SessionState s = registry.require(who, sessionId);
        SessionState.RemoteTurn remote;
        synchronized (s.lock()) {
            s.requireLive();
            Turn turn = s.activeTurn();
            if (turn != null) {
                if (turn.isEnded() || !turn.id().equals(turnId)) {
                    return CompletableFuture.completedFuture(false);
                }
                turn.cancel(who.userId());
                return CompletableFuture.completedFuture(true);
            }
            remote = s.remoteTurn();
            if (remote == null || !remote.turnId().equals(turnId)) {
                return CompletableFuture.completedFuture(false);
            }
        }
        return router.route(remote.pod(), RoutedCommand.cancel(who, sessionId)).thenApply(cancelled -> true);
    }

    /** Answers a pending {@code permission_request}; {@code acknowledge} runs before {@code permission_resolved}. */
    public CompletionStage<Void> decide(Identity who, String sessionId, String requestId, String decision,
            Runnable acknowledge) {
        SessionRegistry.requireWrite(who);
        SessionState s = registry.require(who, sessionId);
        SessionState.RemoteTurn remote;
        synchronized (s.lock()) {
            s.requireLive();
            if (s.isPermissionResolved(requestId)) {
                throw ProtocolException.conflict("permission request " + requestId + " was already resolved");
            }
            Turn turn = s.activeTurn();
            remote = s.remoteTurn();
            if (turn != null || remote == null) {
                if (turn == null) {
                    throw ProtocolException.notFound("permission request", requestId);
                }
                turn.decide(requestId, decision, who.userId(), acknowledge);
                return DONE;
            }
        }
        return router.route(remote.pod(), RoutedCommand.decide(who, sessionId, requestId, decision))
                .thenAccept(ignored -> acknowledge.run());
    }

    /** Carries out a command another pod routed here because this pod runs the turn; answers as a local call would. */
    String handleRouted(RoutedCommand command) {
        Identity who = command.identity();
        String[] turnId = new String[1];
        try {
            SessionState s = registry.require(who, command.sessionId());
            synchronized (s.lock()) {
                s.requireLive();
                Turn turn = s.activeTurn();
                if (RoutedCommand.CANCEL.equals(command.op())) {
                    if (turn == null || turn.isEnded()) {
                        throw ProtocolException.conflict("no turn is running in session " + s.id());
                    }
                    turnId[0] = turn.id();
                    turn.cancel(who.userId());
                } else {
                    if (s.isPermissionResolved(command.requestId())) {
                        throw ProtocolException.conflict("permission request " + command.requestId()
                                + " was already resolved");
                    }
                    if (turn == null) {
                        throw ProtocolException.notFound("permission request", command.requestId());
                    }
                    turn.decide(command.requestId(), command.decision(), who.userId(), () -> turnId[0] = turn.id());
                }
            }
            return CommandRouter.ok(turnId[0]);
        } catch (ProtocolException e) {
            return CommandRouter.refused(e);
        }
    }

    /** Renews this pod's leases of the sessions whose turns it runs (cluster mode). */
    void renewLeases() {
        if (!leased.isEmpty()) {
            executor.execute(() -> {
                try {
                    for (String lost : leases.renew(List.copyOf(leased), leaseExpiry)) {
                        abandonLost(lost);
                    }
                } catch (RuntimeException e) {
                    LOG.errorf("renewing %d session leases failed: %s", leased.size(), e.getMessage());
                }
            });
        }
    }

    /**
     * This pod lost the lease of a session whose turn it runs (it stalled past the expiry and another pod took the
     * session over, ending the turn there): the turn stops here without further events.
     */
    private void abandonLost(String sessionId) {
        leased.remove(sessionId);
        SessionState s = registry.known(sessionId);
        if (s == null) {
            return;
        }
        synchronized (s.lock()) {
            Turn turn = s.activeTurn();
            if (turn != null) {
                LOG.warnf("lost the lease of session %s to another pod; turn %s stops here", sessionId, turn.id());
                turn.abandon();
            }
        }
    }

    private void releaseLater(String sessionId, String turnId) {
        executor.execute(() -> {
            try {
                leases.release(sessionId, turnId);
            } catch (RuntimeException e) {
                LOG.errorf("releasing the lease of session %s failed (it expires on its own): %s", sessionId,
                        e.getMessage());
            }
        });
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

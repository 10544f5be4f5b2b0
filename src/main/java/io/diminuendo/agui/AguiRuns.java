package io.diminuendo.agui;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;

import io.diminuendo.api.RestRateLimit;
import io.diminuendo.auth.Authenticator;
import io.diminuendo.auth.Identity;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.session.ClientErrors;
import io.diminuendo.session.SessionRegistry;
import io.diminuendo.session.SessionState;
import io.diminuendo.session.TurnService;
import io.diminuendo.store.EventLog;
import io.diminuendo.stream.ReadGate;
import io.diminuendo.stream.ReplayService;
import io.diminuendo.stream.Subscription;
import io.diminuendo.upstream.Backends;
import io.micrometer.core.instrument.Counter;
import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;

/**
 * Starts AG-UI runs and follows them to their end (docs/protocol.md, "4. AG-UI"). A run is a session's turn seen
 * through one HTTP response: a new run starts a turn with {@link TurnService#send} in the thread's session (made on
 * the spot for an unknown thread id); a run that carries {@code resume} answers the turn's permission requests with
 * {@link TurnService#decide} and streams the same turn on. Either way the run subscribes to the session's stream
 * first, through {@link ReplayService} like a WebSocket client, so it reads every event of its turn at its own pace.
 * <p>
 * Everything that can go wrong is settled before the first byte of the answer, on a worker thread (the session may be
 * read from the store, the body is parsed there); the stream itself runs on the request's event loop
 * ({@link RunStream}). A client that leaves before the run's end cancels the turn, unless
 * {@code diminuendo.agui.cancel-on-disconnect} is false. Created at start-up, so its meters are served from the start.
 */
@Startup
@ApplicationScoped
public class AguiRuns {
    private static final Logger LOG = Logger.getLogger(AguiRuns.class);
    /** Metadata of the sessions a run creates. */
    static final String SOURCE_METADATA = "{\"source\":\"ag-ui\"}";
    /**
     * How long a new run that finds the session's turn streamed to another run's client waits for that client to
     * turn out gone (its close may not have been read yet), before it is refused with 409.
     */
    static final long DEPARTURE_GRACE_MS = 500;

    private final Authenticator authenticator;
    private final RestRateLimit rate;
    private final ReadGate reads;
    private final SessionRegistry sessions;
    private final TurnService turns;
    private final ReplayService replay;
    private final EventLog log;
    private final Backends backends;
    private final GatewayMetrics metrics;
    private final Vertx vertx;
    private final ObjectReader reader;
    private final boolean cancelOnDisconnect;
    private final long cancelWaitMs;
    private final long keepAliveMs;
    private final int maxPromptChars;
    private final int maxTitleChars;
    private final int queueFrames;
    private final int readsAtOnce;
    private final long queueChars;
    private final Counter started;
    private final Map<RunTranslator.Outcome, Counter> endedByOutcome = new EnumMap<>(RunTranslator.Outcome.class);
    private final Counter disconnectCancels;
    private final AtomicInteger streaming = new AtomicInteger();
    /** The runs streaming a turn of each session (more than one when a resume was sent twice). */
    private final Map<String, Set<RunStream>> bySession = new ConcurrentHashMap<>();

    public AguiRuns(Authenticator authenticator, RestRateLimit rate, SessionRegistry sessions, TurnService turns,
            ReplayService replay, ReadGate reads, EventLog log, Backends backends, GatewayMetrics metrics, Vertx vertx,
            ObjectMapper mapper, GatewayConfig config) {
        this.authenticator = authenticator;
        this.rate = rate;
        this.reads = reads;
        this.sessions = sessions;
        this.turns = turns;
        this.replay = replay;
        this.log = log;
        this.backends = backends;
        this.metrics = metrics;
        this.vertx = vertx;
        this.reader = mapper.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        GatewayConfig.Agui agui = config.agui();
        this.cancelOnDisconnect = agui.cancelOnDisconnect();
        this.cancelWaitMs = agui.cancelWait().toMillis();
        this.keepAliveMs = agui.keepAliveInterval().toMillis();
        this.maxPromptChars = config.limits().maxPromptChars();
        this.maxTitleChars = config.limits().maxTitleChars();
        this.queueFrames = config.limits().outboundQueue();
        this.readsAtOnce = config.limits().readsPerConnection();
        this.queueChars = config.limits().outboundBytes();
        this.started = metrics.counter("diminuendo.agui.runs.started", "AG-UI runs that started streaming a turn");
        for (RunTranslator.Outcome outcome : RunTranslator.Outcome.values()) {
            endedByOutcome.put(outcome, metrics.counter("diminuendo.agui.runs.ended", "AG-UI runs ended, by outcome",
                    "outcome", outcome.label()));
        }
        this.disconnectCancels = metrics.counter("diminuendo.agui.disconnect.cancels",
                "Turns cancelled because the AG-UI client closed its response before the run's end");
        metrics.gauge("diminuendo.agui.runs.streaming", "AG-UI runs streaming now", streaming::get);
    }

    /**
     * A run for this request, its response watched from now on (a client that leaves early is noticed). Call on the
     * request's event loop, then {@link Run#execute} on a worker thread once the body is read.
     */
    Run open(HttpServerRequest request, String allowedOrigin) {
        return new Run(request, allowedOrigin);
    }

    /** One run: the session side of a {@link RunStream}. */
    final class Run implements RunStream.Listener {
        private final RunStream stream;
        private volatile Identity who;
        private volatile SessionState session;
        private volatile Subscription subscription;

        private Run(HttpServerRequest request, String allowedOrigin) {
            this.stream = new RunStream(request, vertx, allowedOrigin, queueFrames, queueChars, readsAtOnce,
                    keepAliveMs, cancelWaitMs, this);
        }

        /**
         * Authenticates the caller from the {@code Authorization} header, before the body is read, as the REST API
         * does: the token is verified (a JWT signed with a key the provider has just rotated in waits for one refresh
         * of its key set), the user must be within the REST rate and have {@code sessions:write}. Fails with
         * {@code unauthorized}, {@code rate_limited} or {@code forbidden}. Never blocks.
         */
        CompletionStage<Void> authenticate(String authorization) {
            String token = Authenticator.bearer(authorization);
            if (token == null) {
                return CompletableFuture.failedFuture(
                        new ProtocolException(ErrorCode.UNAUTHORIZED, "send Authorization: Bearer <token>"));
            }
            return authenticator.authenticateAsync(token).handle((identity, failure) -> {
                if (failure != null) {
                    Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                            ? failure.getCause() : failure;
                    throw new ProtocolException(ErrorCode.UNAUTHORIZED, "authentication failed: " + cause.getMessage());
                }
                rate.admit(identity);
                SessionRegistry.requireWrite(identity);
                who = identity;
                return null;
            });
        }

        /**
         * Settles everything else that can refuse the run, then starts it. Blocking: runs on a worker thread after
         * {@link #authenticate}. {@code backend} is the backend named in the path, or null.
         */
        void execute(String backend, Buffer body) {
            try {
                RunInput input = RunInput.parse(parse(body), maxPromptChars);
                if (input.resumes()) {
                    resume(input);
                } else {
                    newTurn(input, backend);
                }
            } catch (RuntimeException e) {
                refuse(e);
            }
        }

        private void newTurn(RunInput input, String backend) {
            if (backend != null && backends.get(backend) == null) {
                throw ProtocolException.notFound("agent backend", backend);
            }
            session = sessions.openOrCreate(who, input.threadId(), input.title(maxTitleChars), SOURCE_METADATA, backend)
                    .toCompletableFuture().join().session();
            if (session.isArchived()) {
                throw ProtocolException.conflict("session " + session.id() + " is archived");
            }
            subscribe(-1);
            if (clientLeft()) {
                return;
            }
            String turnId = send(input);
            start(turnId, new RunTranslator(input.threadId(), input.runId(), turnId));
        }

        /** Sends the prompt; a turn still running for a client that has just left is waited for, once. */
        private String send(RunInput input) {
            for (int attempt = 0;; attempt++) {
                try {
                    return turns.send(who, session.id(), input.prompt(), input.clientMessageId()).toCompletableFuture()
                            .join();
                } catch (RuntimeException e) {
                    ProtocolException p = ClientErrors.from(e);
                    if (p.code() != ErrorCode.CONFLICT || attempt > 0 || !awaitDeparture(session.id())) {
                        throw p;
                    }
                }
            }
        }

        private void resume(RunInput input) {
            List<String> interrupts = input.resume().stream().map(RunInput.Resume::interruptId).toList();
            try {
                session = sessions.get(who, input.threadId());
            } catch (ProtocolException e) {
                throw new ProtocolException(ErrorCode.NOT_FOUND, "interrupt " + interrupts.get(0)
                        + " (field 'resume') not found in thread " + input.threadId());
            }
            long lastSeq = session.stream().lastSeq();
            log.barrier().toCompletableFuture().join();
            ResumePoint point = reads.read(session.tenantId(), stream.readSlots(),
                    () -> ResumePoint.find(log, session.id(), lastSeq, interrupts));
            subscribe(point.afterSeq());
            if (clientLeft()) {
                return;
            }
            for (RunInput.Resume r : input.resume()) {
                decide(r);
            }
            RunTranslator translator = new RunTranslator(input.threadId(), input.runId(), point.turnId());
            point.announced().forEach(translator::announcedBefore);
            if (point.usage() != null) {
                translator.rememberUsage(point.usage());
            }
            start(point.turnId(), translator);
        }

        /**
         * Answers one interrupt as the caller's {@code permission_decision}. One resolved meanwhile by someone else
         * ({@code conflict}) or whose turn has ended ({@code not_found}) needs nothing more: the run streams on.
         */
        private void decide(RunInput.Resume r) {
            try {
                turns.decide(who, session.id(), r.interruptId(), r.decision(), () -> {
                }).toCompletableFuture().join();
            } catch (RuntimeException e) {
                ProtocolException p = ClientErrors.from(e);
                if (p.code() != ErrorCode.CONFLICT && p.code() != ErrorCode.NOT_FOUND) {
                    throw p;
                }
            }
        }

        /**
         * True, and the run is dropped without an answer, when the client left while the run was being settled: no
         * turn is started or answered for it.
         */
        private boolean clientLeft() {
            if (!stream.gone().isDone()) {
                return false;
            }
            detach();
            stream.refuse(ProtocolException.badRequest("the client closed the request before the run started"));
            return true;
        }

        private void subscribe(long afterSeq) {
            Subscription sub = new Subscription(session.id(), stream, null);
            subscription = sub;
            replay.subscribe(session.stream(), sub, afterSeq, boundary -> null);
        }

        private void start(String turnId, RunTranslator translator) {
            bySession.compute(session.id(), (id, runs) -> {
                Set<RunStream> all = runs == null ? ConcurrentHashMap.newKeySet() : runs;
                all.add(stream);
                return all;
            });
            streaming.incrementAndGet();
            started.increment();
            stream.start(turnId, translator);
        }

        private void refuse(RuntimeException failure) {
            ProtocolException p = ClientErrors.from(failure);
            if (p.code() == ErrorCode.INTERNAL) {
                LOG.error("AG-UI run failed", failure);
            }
            detach();
            metrics.error(p.code());
            stream.refuse(p);
        }

        @Override
        public boolean disconnected(RunStream run) {
            if (!cancelOnDisconnect) {
                return false;
            }
            try {
                turns.cancelIfRunning(who, session.id(), run.turnId()).whenComplete((cancelled, failure) -> {
                    if (failure == null && cancelled) {
                        disconnectCancels.increment();
                    } else if (failure != null) {
                        LOG.debugf("cancelling turn %s after its AG-UI client left failed: %s", run.turnId(),
                                failure.getMessage());
                    }
                });
            } catch (ProtocolException e) {
                // the session was deleted meanwhile: its subscription ends the run
                LOG.debugf("cancelling turn %s after its AG-UI client left: %s", run.turnId(), e.getMessage());
            }
            return true;
        }

        @Override
        public void ended(RunStream run, RunTranslator.Outcome outcome) {
            endedByOutcome.get(outcome).increment();
            streaming.decrementAndGet();
            bySession.computeIfPresent(session.id(), (id, runs) -> {
                runs.remove(run);
                return runs.isEmpty() ? null : runs;
            });
            detach();
        }

        private void detach() {
            Subscription sub = subscription;
            if (sub != null && session != null) {
                session.stream().detach(sub);
            }
        }
    }

    /**
     * Waits, on a worker thread, for the runs streaming the session's turn to be over, if their clients are gone or
     * go within {@link #DEPARTURE_GRACE_MS}; at most {@code cancel-wait} in all. True when they all ended in time:
     * the turn was cancelled for a departed client and a new one may start.
     */
    private boolean awaitDeparture(String sessionId) {
        Set<RunStream> runs = bySession.get(sessionId);
        if (runs == null || runs.isEmpty()) {
            return false;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(cancelWaitMs);
        try {
            for (RunStream run : List.copyOf(runs)) {
                run.gone().get(Math.min(DEPARTURE_GRACE_MS, cancelWaitMs), TimeUnit.MILLISECONDS);
                run.over().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
            return true;
        } catch (TimeoutException | ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private JsonNode parse(Buffer body) {
        try {
            return reader.readTree(body.getBytes());
        } catch (Exception e) {
            throw ProtocolException.badRequest("body is not valid JSON");
        }
    }
}

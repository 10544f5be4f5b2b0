package io.diminuendo.session;

import java.util.ArrayList;
import java.util.List;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.jboss.logging.Logger;

import io.diminuendo.cluster.Broker;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.EventKind;
import io.diminuendo.store.EventLog;
import io.diminuendo.store.Leases;
import io.diminuendo.store.SessionStore;
import io.diminuendo.store.StoredEvent;
import io.diminuendo.upstream.EventMapper;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.core.Vertx;

/**
 * Connects this pod's sessions to the other pods' (cluster mode; with the local broker it does nothing):
 * <ul>
 * <li>every event this pod's writer commits is published, with its seq and the session's epoch (a committed batch's
 * events of one session together);</li>
 * <li>events of other pods advance the local copy of their session's stream and reach its local subscribers, and
 * their {@code turn_started} / terminal events tell this pod that a turn runs elsewhere, and where;</li>
 * <li>session changes of other pods update the local registry and reach the tenant's local connections;</li>
 * <li>commands routed here are carried out by the {@link TurnService};</li>
 * <li>every third of the lease expiry, expired leases of other pods are taken over: the orphaned turn is ended
 * with {@code turn_failed} (code {@code owner_lost}) and the session gets a new epoch, because its events may have
 * been delivered to clients without being stored.</li>
 * </ul>
 */
@ApplicationScoped
public class ClusterSync {
    private static final Logger LOG = Logger.getLogger(ClusterSync.class);

    private final Broker broker;
    private final SessionRegistry registry;
    private final TurnService turns;
    private final EventLog log;
    private final Leases leases;
    private final SessionStore store;
    private final GatewayMetrics metrics;
    private final Vertx vertx;
    private final GatewayConfig.Cluster config;

    public ClusterSync(Broker broker, SessionRegistry registry, TurnService turns, EventLog log, Leases leases,
            SessionStore store, GatewayMetrics metrics, Vertx vertx, GatewayConfig config) {
        this.store = store;
        this.broker = broker;
        this.registry = registry;
        this.turns = turns;
        this.log = log;
        this.leases = leases;
        this.metrics = metrics;
        this.vertx = vertx;
        this.config = config.cluster();
    }

    void start(@Observes @Priority(30) StartupEvent event) {
        if (!broker.clustered()) {
            return;
        }
        broker.start(new Receiver(), command -> turns.handleRouted(RoutedCommand.parse(command)));
        log.onCommitted(this::publish);
        long every = Math.max(100, config.leaseExpiry().toMillis() / 3);
        vertx.setPeriodic(every, id -> Infrastructure.getDefaultWorkerPool().execute(this::takeOverExpired));
    }

    /**
     * A committed batch holds each session's events in seq order, usually in runs: each run of one session goes to
     * the broker as one publication.
     */
    private void publish(List<StoredEvent> committed) {
        int from = 0;
        while (from < committed.size()) {
            String sessionId = committed.get(from).sessionId();
            int to = from + 1;
            while (to < committed.size() && committed.get(to).sessionId().equals(sessionId)) {
                to++;
            }
            SessionState s = registry.known(sessionId);
            if (s != null) {
                List<Broker.Event> run = new ArrayList<>(to - from);
                for (int i = from; i < to; i++) {
                    StoredEvent e = committed.get(i);
                    run.add(new Broker.Event(e.seq(), e.kind().wire(), e.turnId(), e.frame()));
                }
                broker.publishEvents(sessionId, s.epoch(), run);
            }
            from = to;
        }
    }

    private final class Receiver implements Broker.Handler {
        @Override
        public void event(String sessionId, long seq, String kind, String turnId, String epoch, String pod,
                String frame) {
            SessionState s = registry.lookupOrLoad(sessionId);
            if (s == null) {
                return;
            }
            registry.adoptEpoch(s, epoch);
            EventKind k = EventKind.fromWire(kind);
            synchronized (s.lock()) {
                if (!s.stream().acceptRemote(seq, frame) || k == null) {
                    return;
                }
                if (k == EventKind.TURN_STARTED && s.activeTurn() == null) {
                    s.remoteTurn(new SessionState.RemoteTurn(turnId, pod));
                } else if (k.isTerminal()) {
                    SessionState.RemoteTurn remote = s.remoteTurn();
                    if (remote != null && remote.turnId().equals(turnId)) {
                        s.remoteTurn(null);
                    }
                }
            }
        }

        @Override
        public void sessionChanged(String tenantId, String sessionId, String change, String frame) {
            registry.applyRemoteChange(tenantId, sessionId, change, frame);
        }
    }

    /** Ends the turns of pods whose leases expired (they died or lost the database); runs on a worker thread. */
    private void takeOverExpired() {
        List<Leases.Holder> expired;
        try {
            expired = leases.takeExpired();
        } catch (RuntimeException e) {
            LOG.debugf("looking for expired leases failed: %s", e.getMessage());
            return;
        }
        for (Leases.Holder orphan : expired) {
            try {
                takeOver(orphan);
            } catch (RuntimeException e) {
                LOG.errorf(e, "taking over session %s from pod %s failed", orphan.sessionId(), orphan.pod());
            }
        }
    }

    private void takeOver(Leases.Holder orphan) {
        SessionState s = registry.lookupOrLoad(orphan.sessionId());
        if (s == null || leases.acquire(orphan.sessionId(), orphan.turnId(), config.leaseExpiry()) != null) {
            return;
        }
        try {
            SessionStore.LoadedSession stored = store.loadSession(orphan.sessionId()).orElse(null);
            if (stored == null) {
                return;
            }
            s.stream().advanceTo(stored.lastSeq());
            registry.renewEpoch(s).toCompletableFuture().join();
            boolean ended = stored.lastKind() != null && stored.lastKind().isTerminal()
                    && orphan.turnId().equals(stored.lastTurnId());
            synchronized (s.lock()) {
                s.remoteTurn(null);
            }
            if (!ended) {
                String failure = EventMapper.failure("owner_lost", "the gateway pod running this turn ("
                        + orphan.pod() + ") stopped answering; send the message again");
                registry.publishWhenWritable(s, orphan.turnId(), EventKind.TURN_FAILED, failure);
            }
            log.barrier().toCompletableFuture().join();
            metrics.leaseTakeovers.increment();
            LOG.infof("took over session %s from pod %s: turn %s ended as owner_lost, new epoch %s",
                    orphan.sessionId(), orphan.pod(), orphan.turnId(), s.epoch());
        } finally {
            leases.release(orphan.sessionId(), orphan.turnId());
        }
    }
}

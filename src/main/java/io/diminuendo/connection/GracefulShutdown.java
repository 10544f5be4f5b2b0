package io.diminuendo.connection;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.jboss.logging.Logger;

import io.diminuendo.session.TurnService;
import io.diminuendo.store.StoreHealth;
import io.diminuendo.stream.ReplayService;
import io.diminuendo.upstream.Backends;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.ShutdownEvent;

/**
 * The graceful stop on SIGTERM, in order: end running turns with {@code turn_failed} (so every turn has its
 * terminal event), let subscribers that are behind catch up from the store (at most {@link #CATCH_UP_WAIT_MS}, so
 * they see that event too), close every client with 1001 (new connections are refused from here on), then let the
 * writer commit everything queued and record a clean stop. It runs on {@link ShutdownDelayInitiatedEvent},
 * which Quarkus fires before the HTTP server stops (while sockets can still carry the last frames), and again,
 * as a no-op, on {@link ShutdownEvent}.
 */
@ApplicationScoped
public class GracefulShutdown {
    private static final Logger LOG = Logger.getLogger(GracefulShutdown.class);

    private final TurnService turns;
    private final ConnectionRegistry connections;
    private final StoreHealth store;
    private final Backends backends;
    private final ReplayService replay;
    private boolean done;
    /** How long the stop waits for subscribers catching up from the store. */
    static final long CATCH_UP_WAIT_MS = 5_000;

    public GracefulShutdown(TurnService turns, ConnectionRegistry connections, StoreHealth store, Backends backends,
            ReplayService replay) {
        this.replay = replay;
        this.turns = turns;
        this.connections = connections;
        this.store = store;
        this.backends = backends;
    }

    void onSigterm(@Observes ShutdownDelayInitiatedEvent event) {
        run();
    }

    void onShutdown(@Observes ShutdownEvent event) {
        run();
    }

    synchronized void run() {
        if (done) {
            return;
        }
        done = true;
        long start = System.nanoTime();
        int running = turns.runningTurns();
        turns.failRunningTurns();
        try {
            if (!replay.awaitReplaysDone(CATCH_UP_WAIT_MS)) {
                LOG.infof("graceful stop: subscribers still catching up after %d ms are closed as they are (they resume"
                        + " with afterSeq)", CATCH_UP_WAIT_MS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        connections.closeAll();
        store.drainAndStop();
        backends.close();
        LOG.infof("graceful stop: ended %d running turns, closed connections, drained the writer in %d ms", running,
                (System.nanoTime() - start) / 1_000_000);
    }
}

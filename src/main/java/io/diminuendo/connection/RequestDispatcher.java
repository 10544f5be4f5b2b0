package io.diminuendo.connection;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import io.diminuendo.auth.Identity;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.hub.Hub;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.ClientRequest;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.protocol.ServerFrames;
import io.diminuendo.session.ClientErrors;
import io.diminuendo.session.SessionRegistry;
import io.diminuendo.session.SessionState;
import io.diminuendo.session.TurnService;
import io.diminuendo.stream.ReplayService;
import io.diminuendo.stream.Subscription;

/**
 * Carries out each decoded request of a connection: {@code authenticate} is handled by {@link Authentication}, every
 * other request needs a valid identity and is answered directly or when its store work completes. Runs on the
 * connection's event loop and never blocks; a failure becomes an {@code error} reply to the request.
 */
@ApplicationScoped
public class RequestDispatcher {
    private static final Logger LOG = Logger.getLogger(RequestDispatcher.class);
    static final String MDC_CONNECTION_ID = "connectionId";
    static final String MDC_SESSION_ID = "sessionId";

    private final Authentication authentication;
    private final SessionRegistry sessions;
    private final TurnService turns;
    private final ReplayService replay;
    private final Hub hub;
    private final GatewayMetrics metrics;
    private final int maxSubscriptions;

    public RequestDispatcher(Authentication authentication, SessionRegistry sessions, TurnService turns,
            ReplayService replay, Hub hub, GatewayMetrics metrics, GatewayConfig config) {
        this.authentication = authentication;
        this.sessions = sessions;
        this.turns = turns;
        this.replay = replay;
        this.hub = hub;
        this.metrics = metrics;
        this.maxSubscriptions = config.limits().maxSubscriptionsPerConnection();
    }

    void dispatch(ClientConnection c, ClientRequest request) {
        request.accept(new Call(c));
    }

    /** The retry hint of a {@code history} refused because earlier ones still wait for the client to read. */
    static final long HISTORY_RETRY_MS = 500;

    /** Drops the subscriptions of a connection that has closed. */
    void closed(ClientConnection c) {
        for (Subscription sub : c.subscriptions().values()) {
            detach(sub, null);
        }
        c.subscriptions().clear();
    }

    /** One request of connection {@code c}. */
    private final class Call implements ClientRequest.Visitor {
        private final ClientConnection c;

        Call(ClientConnection c) {
            this.c = c;
        }

        @Override
        public void authenticate(ClientRequest.Authenticate r) {
            authentication.authenticate(c, r.id(), r.token());
        }

        @Override
        public void ping(ClientRequest.Ping r) {
            signedIn(r, who -> c.send(ServerFrames.pong(r.id(), System.currentTimeMillis())));
        }

        @Override
        public void createSession(ClientRequest.CreateSession r) {
            signedIn(r, who -> reply(r, sessions.create(who, r.title(), r.metadataJson(), r.agent()),
                    json -> ServerFrames.withSession("session_created", r.id(), json)));
        }

        @Override
        public void listSessions(ClientRequest.ListSessions r) {
            signedIn(r, who -> {
                SessionRegistry.Page page = sessions.list(who, r.limit(), r.cursor(), r.status());
                c.send(ServerFrames.sessions(r.id(), page.items(), page.nextCursor()));
            });
        }

        @Override
        public void getSession(ClientRequest.GetSession r) {
            signedIn(r, who -> c.send(ServerFrames.withSession("session", r.id(), sessions.get(who, r.sessionId()).toJson())));
        }

        @Override
        public void updateSession(ClientRequest.UpdateSession r) {
            signedIn(r, who -> reply(r, sessions.updateTitle(who, r.sessionId(), r.title()),
                    json -> ServerFrames.withSession("session_updated", r.id(), json)));
        }

        @Override
        public void archiveSession(ClientRequest.ArchiveSession r) {
            signedIn(r, who -> reply(r, sessions.archive(who, r.sessionId()),
                    json -> ServerFrames.withSession("session_archived", r.id(), json)));
        }

        @Override
        public void deleteSession(ClientRequest.DeleteSession r) {
            signedIn(r, who -> reply(r, sessions.delete(who, r.sessionId()), sid -> ServerFrames.sessionDeleted(r.id(), sid)));
        }

        @Override
        public void subscribe(ClientRequest.Subscribe r) {
            signedIn(r, who -> {
                SessionState s = sessions.get(who, r.sessionId());
                if (c.subscriptions().size() >= maxSubscriptions && !c.subscriptions().containsKey(r.sessionId())) {
                    metrics.limitHit("subscriptions_per_connection");
                    throw new ProtocolException(ErrorCode.RATE_LIMITED, "this connection already has "
                            + maxSubscriptions + " subscriptions; unsubscribe from one first");
                }
                Subscription previous = c.subscriptions().remove(r.sessionId());
                if (previous != null) {
                    detach(previous, "replaced");
                }
                Subscription sub = new Subscription(r.sessionId(), c, r.id());
                // a deleted session ends the subscription and frees its slot
                sub.onEnded(() -> c.subscriptions().remove(r.sessionId(), sub));
                c.subscriptions().put(r.sessionId(), sub);
                try {
                    replay.subscribe(s.stream(), sub, r.afterSeq(),
                            boundary -> ServerFrames.subscribed(r.id(), r.sessionId(), boundary, s.status(), s.epoch()));
                } catch (RuntimeException e) {
                    c.subscriptions().remove(r.sessionId(), sub);
                    throw e;
                }
            });
        }

        @Override
        public void unsubscribe(ClientRequest.Unsubscribe r) {
            signedIn(r, who -> {
                SessionRegistry.requireRead(who);
                Subscription sub = c.subscriptions().remove(r.sessionId());
                if (sub != null) {
                    // the connection subscribed to it, so it may see it (also if it was deleted since)
                    detach(sub, "unsubscribed");
                } else {
                    sessions.get(who, r.sessionId());
                }
                c.send(ServerFrames.unsubscribed(r.id(), r.sessionId(), null));
            });
        }

        @Override
        public void history(ClientRequest.History r) {
            signedIn(r, who -> {
                SessionState s = sessions.get(who, r.sessionId());
                boolean queued = c.historyRequests().submit(() -> {
                    try {
                        return reply(r, replay.history(s.stream(), c, r.afterSeq(), r.limit()),
                                page -> ServerFrames.history(r.id(), r.sessionId(), page.frames(), page.lastSeq()));
                    } catch (RuntimeException e) {
                        fail(c, r, e);
                        return CompletableFuture.completedFuture(null);
                    }
                });
                if (!queued) {
                    metrics.limitHit(GatewayMetrics.HISTORY_WAIT);
                    throw new ProtocolException(ErrorCode.RATE_LIMITED, HistoryRequests.MAX_WAITING
                            + " history requests of this connection are waiting already; read their replies first",
                            HISTORY_RETRY_MS);
                }
            });
        }

        @Override
        public void sendMessage(ClientRequest.SendMessage r) {
            signedIn(r, who -> reply(r, turns.send(who, r.sessionId(), r.text(), r.clientMessageId()),
                    turnId -> ServerFrames.messageAccepted(r.id(), r.sessionId(), turnId)));
        }

        @Override
        public void cancelTurn(ClientRequest.CancelTurn r) {
            signedIn(r, who -> failures(r, turns.cancel(who, r.sessionId(),
                    turnId -> c.send(ServerFrames.cancelRequested(r.id(), r.sessionId(), turnId)))));
        }

        @Override
        public void permissionDecision(ClientRequest.PermissionDecision r) {
            signedIn(r, who -> failures(r, turns.decide(who, r.sessionId(), r.requestId(), r.decision(),
                    () -> c.send(ServerFrames.permissionDecisionAccepted(r.id(), r.sessionId(), r.requestId())))));
        }

        /** Runs {@code action} with the connection's identity, or refuses the request when it has none that is valid. */
        private void signedIn(ClientRequest request, Consumer<Identity> action) {
            Identity who = authentication.signedIn(c, request.id());
            if (who == null) {
                return;
            }
            putLogIds(c, request);
            try {
                action.accept(who);
            } catch (RuntimeException e) {
                fail(c, request, e);
            } finally {
                clearLogIds();
            }
        }

        /** Answers a failure of {@code result} with an error; its success was already answered (in order). */
        private void failures(ClientRequest request, CompletionStage<Void> result) {
            result.whenComplete((ok, failure) -> {
                if (failure != null) {
                    fail(c, request, failure);
                }
            });
        }

        /** Sends the reply once {@code result} completes; the stage returned completes once it is queued. */
        private <T> CompletionStage<T> reply(ClientRequest request, CompletionStage<T> result, Function<T, String> frame) {
            return result.whenComplete((value, failure) -> {
                if (failure == null) {
                    c.send(frame.apply(value));
                } else {
                    fail(c, request, failure);
                }
            });
        }
    }

    /** Drops a subscription; with a {@code reason}, a subscribe still replaying is answered with it. */
    private void detach(Subscription sub, String reason) {
        hub.unsubscribe(Hub.sessionTopic(sub.sessionId()), sub);
        if (reason == null) {
            sub.close();
        } else {
            sub.closeAnswering(reason);
        }
    }

    private static void fail(ClientConnection c, ClientRequest request, Throwable failure) {
        ProtocolException p = ClientErrors.from(failure);
        if (p.code() == ErrorCode.INTERNAL) {
            // may run on the writer thread when the failure completes a store future: set the ids there too
            putLogIds(c, request);
            try {
                LOG.error("request failed", failure);
            } finally {
                clearLogIds();
            }
        }
        if (p.retryAfterMs() >= 0) {
            c.sendError(request.id(), p.code(), p.getMessage(), p.retryAfterMs());
        } else {
            c.sendError(request.id(), p.code(), p.getMessage());
        }
    }

    /** Log context for whatever a request logs (prod JSON logs carry it under {@code mdc}); two map writes. */
    private static void putLogIds(ClientConnection c, ClientRequest request) {
        MDC.put(MDC_CONNECTION_ID, c.id());
        String sessionId = request.sessionId();
        if (sessionId != null) {
            MDC.put(MDC_SESSION_ID, sessionId);
        }
    }

    private static void clearLogIds() {
        MDC.remove(MDC_CONNECTION_ID);
        MDC.remove(MDC_SESSION_ID);
    }
}

package io.diminuendo.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.diminuendo.auth.Identity;
import io.diminuendo.cluster.LocalBroker;
import io.diminuendo.config.TestConfigs;
import io.diminuendo.hub.Hub;
import io.diminuendo.hub.LocalHub;
import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.ProtocolException;
import io.diminuendo.store.EventStore;
import io.diminuendo.store.SessionRecord;
import io.diminuendo.store.SessionStore;
import io.diminuendo.support.MemoryStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * {@link SessionRegistry#archive} and {@link SessionRegistry#updateTitle} without a server, over a session store
 * whose writes the test completes by hand: a write whose commit fails (as on a full disk) leaves the session in
 * memory as it was, fails the caller's request with {@code unavailable}, and tells the tenant nothing.
 */
class SessionRegistryFailedCommitTest {
    private static final String SID = "s1";
    private static final Identity ALICE = Identity.of("alice", "acme", null, Long.MAX_VALUE);

    private final ManualSessionStore store = new ManualSessionStore();
    private final LocalHub hub = new LocalHub();
    private final List<String> tenantEvents = new ArrayList<>();
    private SessionRegistry registry;

    @BeforeEach
    void start() {
        registry = new SessionRegistry(store, new MemoryStore(), hub, new GatewayMetrics(new SimpleMeterRegistry()),
                null, TestConfigs.config(Map.of()), new LocalBroker("pod-0"), null);
        registry.load(null);
        hub.subscribe(Hub.tenantTopic("acme"), (frame, seq) -> tenantEvents.add(frame));
    }

    @Test
    void anArchiveWhoseCommitFailsLeavesTheSessionIdleAndFailsTheRequestWithUnavailable() {
        CompletableFuture<String> archived = registry.archive(ALICE, SID).toCompletableFuture();
        assertThat(store.writes).as("the archive was handed to the store").hasSize(1);
        assertThat(store.writes.get(0).record().status()).isEqualTo("archived");
        assertThat(archived).as("not answered before the commit").isNotDone();

        store.writes.get(0).fail();

        assertThat(archived).isCompletedExceptionally();
        ProtocolException error = ClientErrors.from(archived.handle((ok, failure) -> failure).join());
        assertThat(error.code()).as("what the client is told").isEqualTo(ErrorCode.UNAVAILABLE);
        SessionState s = registry.get(ALICE, SID);
        assertThat(s.status()).as("status after the failed archive").isEqualTo("idle");
        assertThat(s.isArchived()).isFalse();
        assertThat(s.record()).as("the record the session had").isEqualTo(store.initial);
        assertThat(registry.list(ALICE, 10, null, "archived").items()).as("archived sessions listed").isEmpty();
        assertThat(tenantEvents).as("tenant events").isEmpty();
    }

    @Test
    void aTitleUpdateWhoseCommitFailsKeepsTheOldTitleAndASecondAttemptThatCommitsIsApplied() {
        CompletableFuture<String> renamed = registry.updateTitle(ALICE, SID, "new title").toCompletableFuture();
        store.writes.get(0).fail();

        assertThat(renamed).isCompletedExceptionally();
        assertThat(ClientErrors.from(renamed.handle((ok, failure) -> failure).join()).code())
                .isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(registry.get(ALICE, SID).record().title()).as("title after the failed update").isEqualTo("old title");
        assertThat(registry.get(ALICE, SID).toJson()).contains("\"title\":\"old title\"");
        assertThat(tenantEvents).isEmpty();

        CompletableFuture<String> again = registry.updateTitle(ALICE, SID, "new title").toCompletableFuture();
        store.writes.get(1).commit();

        assertThat(again.join()).contains("\"title\":\"new title\"");
        assertThat(registry.get(ALICE, SID).record().title()).isEqualTo("new title");
        assertThat(tenantEvents).singleElement().asString().contains("session_updated").contains("new title");
    }

    /** A session update handed to the store, committed or failed when the test says. */
    private record PendingWrite(SessionRecord record, CompletableFuture<Void> done) {
        void commit() {
            done.complete(null);
        }

        void fail() {
            done.completeExceptionally(new EventStore.StoreFailure(new SQLException("[SQLITE_FULL] database or disk is full")));
        }
    }

    /** One stored session, {@value #SID}; updates wait for the test ({@link PendingWrite}). */
    private static final class ManualSessionStore implements SessionStore {
        final SessionRecord initial = new SessionRecord(SID, "acme", "alice", "old title", "idle", null, "sim", "e1", 1, 1);
        final List<PendingWrite> writes = new ArrayList<>();

        @Override
        public CompletionStage<Void> insertSession(SessionRecord session, int maxPerTenant) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletionStage<Void> updateSession(SessionRecord session) {
            PendingWrite w = new PendingWrite(session, new CompletableFuture<>());
            writes.add(w);
            return w.done();
        }

        @Override
        public CompletionStage<Void> deleteSession(String sessionId) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<LoadedSession> loadSessions() {
            return List.of(new LoadedSession(initial, 0, null, null));
        }

        @Override
        public Optional<LoadedSession> loadSession(String sessionId) {
            return loadSessions().stream().filter(l -> l.session().id().equals(sessionId)).findFirst();
        }

        @Override
        public boolean previousRunUnclean() {
            return false;
        }
    }
}

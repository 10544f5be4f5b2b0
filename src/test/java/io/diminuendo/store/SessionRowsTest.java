package io.diminuendo.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;

/**
 * Session rows in the configured store (SQLite, or PostgreSQL in the {@code postgresql} test run): inserted once,
 * then only updated while they exist, so an update queued after a delete (by a request racing it, or another pod)
 * cannot bring the session back.
 */
@QuarkusTest
class SessionRowsTest {
    @Inject
    SessionStore store;

    private static SessionRecord record(String id, String title) {
        long now = System.currentTimeMillis();
        return new SessionRecord(id, "rows", "u", title, "idle", "{}", "simulated", "e1", now, now);
    }

    private static void await(CompletionStage<Void> stage) throws Exception {
        stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void anUpdateChangesAStoredRow() throws Exception {
        String id = UUID.randomUUID().toString();
        await(store.insertSession(record(id, "first")));
        await(store.updateSession(record(id, "second")));
        assertThat(store.loadSession(id)).get().satisfies(l -> assertThat(l.session().title()).isEqualTo("second"));
        await(store.deleteSession(id));
    }

    @Test
    void anUpdateQueuedAfterTheDeleteFailsAsMissingAndLeavesNoRow() throws Exception {
        String id = UUID.randomUUID().toString();
        await(store.insertSession(record(id, "doomed")));
        var deleted = store.deleteSession(id);
        var updated = store.updateSession(record(id, "too late"));
        await(deleted);
        assertThatThrownBy(() -> updated.toCompletableFuture().join()).isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(SessionStore.Missing.class);
        assertThat(store.loadSession(id)).isEmpty();
        assertThat(store.loadSessions()).noneMatch(l -> l.session().id().equals(id));
    }
}

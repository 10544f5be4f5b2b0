package io.diminuendo.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.EventKind;
import io.diminuendo.support.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The PostgreSQL store's event writes on a database of their own (in the {@code postgresql} test run): frames stored
 * byte for byte whatever characters they hold (rows travel in {@code COPY}'s text format), a taken (session, seq)
 * refused alone and counted while the writer goes on, the fence of a cluster, and many flushes in one transaction.
 */
@EnabledIf("io.diminuendo.support.TestDatabases#isPostgresql")
class PostgresEventStoreTest {
    private final List<String> databases = new ArrayList<>();
    private final List<PostgresEventStore> stores = new ArrayList<>();
    private final GatewayMetrics metrics = new GatewayMetrics(new SimpleMeterRegistry());

    private PostgresEventStore open(boolean fenced) throws Exception {
        String db = TestDatabases.create();
        databases.add(db);
        return openOn(db, "test-pod", fenced);
    }

    /** A store on an existing database: several of them are pods sharing it. */
    private PostgresEventStore openOn(String db, String pod, boolean fenced) throws Exception {
        PostgresEventStore store = new PostgresEventStore(StoreSettings.postgresql(TestDatabases.url(db),
                TestDatabases.USER, TestDatabases.PASSWORD, 1024), metrics, pod, fenced);
        store.start();
        stores.add(store);
        return store;
    }

    @AfterEach
    void close() {
        stores.forEach(PostgresEventStore::drainAndStop);
        databases.forEach(TestDatabases::drop);
    }

    private static StoredEvent event(String session, long seq, String frame) {
        return new StoredEvent(session, seq, seq % 2 == 0 ? null : "turn-" + seq, EventKind.TEXT_DELTA, 1_700_000_000_000L + seq,
                frame);
    }

    private static void append(EventStore store, StoredEvent... events) throws Exception {
        for (StoredEvent e : events) {
            assertThat(store.tryAppend(e)).isTrue();
        }
        store.barrier().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void podsCreatingSessionsOfOneTenantAtOnceStopAtItsLimitCountedInTheDatabase() throws Exception {
        String db = TestDatabases.create();
        databases.add(db);
        List<PostgresEventStore> pods = List.of(openOn(db, "pod-a", false), openOn(db, "pod-b", false),
                openOn(db, "pod-c", false));
        int limit = 7;
        long now = System.currentTimeMillis();
        for (int round = 0; round < 5; round++) {
            String tenant = "full-" + round;
            List<CompletableFuture<Void>> creates = new ArrayList<>();
            // queued on every pod before any commits: without a count under the tenant's lock, each pod's batch
            // would see only its own rows and the committed ones, and together they would pass the limit
            for (int i = 0; i < 30; i++) {
                creates.add(pods.get(i % pods.size()).insertSession(new SessionRecord(tenant + "-" + i, tenant, "u",
                        "t", "idle", "{}", "simulated", "e1", now, now), limit).toCompletableFuture());
            }
            creates.add(pods.get(round % pods.size()).insertSession(new SessionRecord("other-" + round, "other-" + round,
                    "u", "t", "idle", "{}", "simulated", "e1", now, now), limit).toCompletableFuture());
            int created = 0;
            int refused = 0;
            for (CompletableFuture<Void> c : creates) {
                try {
                    c.get(10, TimeUnit.SECONDS);
                    created++;
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(SessionStore.TenantFull.class);
                    refused++;
                }
            }
            assertThat(created).as("round %d: %d of the tenant's sessions and the other tenant's one", round, limit)
                    .isEqualTo(limit + 1);
            assertThat(refused).isEqualTo(30 - limit);
            assertThat(pods.get(0).loadSessions().stream().filter(l -> l.session().tenantId().equals(tenant)))
                    .hasSize(limit);
        }
    }

    @Test
    void aLeaseWhoseTurnHasEndedInTheStoreCanBeTakenBeforeItsHolderReleasesIt() throws Exception {
        String db = TestDatabases.create();
        databases.add(db);
        PostgresEventStore a = openOn(db, "pod-a", false);
        PostgresEventStore b = openOn(db, "pod-b", false);
        assertThat(a.leases().acquire("s", "turn-1", Duration.ofMinutes(1))).isNull();
        append(a, new StoredEvent("s", 1, "turn-1", EventKind.TURN_STARTED, 1L, "{}"),
                new StoredEvent("s", 2, "turn-1", EventKind.TEXT_DELTA, 2L, "{}"));
        assertThat(b.leases().acquire("s", "turn-2", Duration.ofMinutes(1))).as("the turn is still running")
                .isEqualTo(new Leases.Holder("s", "pod-a", "turn-1"));
        append(a, new StoredEvent("s", 3, "turn-1", EventKind.TURN_COMPLETED, 3L, "{}"));
        // pod-a has not released yet: the stored end of its turn is enough
        assertThat(b.leases().acquire("s", "turn-2", Duration.ofMinutes(1))).isNull();
        assertThat(a.leases().acquire("s", "turn-3", Duration.ofMinutes(1))).as("now pod-b's turn runs")
                .isEqualTo(new Leases.Holder("s", "pod-b", "turn-2"));
        a.leases().release("s", "turn-1"); // late, and harmless
        assertThat(a.leases().acquire("s", "turn-3", Duration.ofMinutes(1))).isEqualTo(new Leases.Holder("s", "pod-b",
                "turn-2"));
    }

    @Test
    void theWriterDoesNotLingerByDefault() throws Exception {
        // other pods see an event once it is committed: a linger would be their delay
        assertThat(open(false).writer().linger()).isZero();
    }

    @Test
    void framesComeBackExactlyWhateverCharactersTheyHold() throws Exception {
        PostgresEventStore store = open(false);
        List<String> frames = List.of("{\"text\":\"tab\\there\"}", "raw\ttab, raw\nnewline, raw\r\nreturn",
                "back\\slash \\\\ \\N \\. end\\", "é ü ß, 漢字, emoji 😀 and 𝄞", "\\N", "", "quote \" and , comma");
        List<StoredEvent> events = new ArrayList<>();
        for (int i = 0; i < frames.size(); i++) {
            events.add(event("chars", i + 1, frames.get(i)));
        }
        append(store, events.toArray(StoredEvent[]::new));
        assertThat(store.readEvents("chars", 0, Long.MAX_VALUE, 100)).containsExactlyElementsOf(events);
    }

    @Test
    void aTakenSeqIsRefusedAloneAndCountedAndTheWriterGoesOn() throws Exception {
        PostgresEventStore store = open(false);
        append(store, event("dup", 1, "one"), event("dup", 2, "two"), event("dup", 3, "three"));
        append(store, event("dup", 2, "a second two"), event("dup", 4, "four"));
        append(store, event("dup", 5, "five"));
        assertThat(store.readEvents("dup", 0, Long.MAX_VALUE, 100)).extracting(StoredEvent::frame)
                .containsExactly("one", "two", "three", "four", "five");
        assertThat(metrics.storeSeqConflicts.count()).isEqualTo(1.0);
    }

    @Test
    void fencedEventsAreStoredOnlyForSessionsWhoseLeaseThisPodHolds() throws Exception {
        PostgresEventStore store = open(true);
        assertThat(store.leases().acquire("held", "turn-1", Duration.ofMinutes(1))).isNull();
        append(store, event("held", 1, "kept"), event("not-held", 1, "refused"), event("held", 2, "kept too"));
        assertThat(store.readEvents("held", 0, Long.MAX_VALUE, 100)).extracting(StoredEvent::frame)
                .containsExactly("kept", "kept too");
        assertThat(store.readEvents("not-held", 0, Long.MAX_VALUE, 100)).isEmpty();
        assertThat(metrics.storeSeqConflicts.count()).isEqualTo(1.0);
    }

    @Test
    void sessionWritesBetweenEventsFlushTheBatchWithoutStoringAnythingTwice() throws Exception {
        PostgresEventStore store = open(false);
        long now = System.currentTimeMillis();
        // more sessions than copies a transaction may make, so that a shared batch also takes the insert path
        int sessions = PostgresEventStore.PostgresStatements.MAX_COPIES_PER_TRANSACTION + 8;
        int perSession = 20;
        // queued without waiting, so session rows and events share batches: each session write flushes first
        for (int s = 0; s < sessions; s++) {
            store.insertSession(new SessionRecord("mixed-" + s, "t", "u", "title", "idle", "{}", "simulated", "e1", now,
                    now));
            for (int seq = 1; seq <= perSession; seq++) {
                assertThat(store.tryAppend(event("mixed-" + s, seq, "s" + s + "e" + seq))).isTrue();
            }
        }
        store.barrier().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(metrics.storeSeqConflicts.count()).isZero();
        assertThat(metrics.batchSize.count()).as("the writes shared batches").isLessThan(sessions);
        for (int s = 0; s < sessions; s++) {
            assertThat(store.readEvents("mixed-" + s, 0, Long.MAX_VALUE, 1000)).extracting(StoredEvent::seq)
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, perSession).boxed().toList());
        }
        assertThat(store.loadSessions()).hasSize(sessions);
    }
}

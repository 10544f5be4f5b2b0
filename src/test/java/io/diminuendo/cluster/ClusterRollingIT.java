package io.diminuendo.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.GatewayProcess;
import io.diminuendo.support.TestCluster;
import io.diminuendo.support.WsClient;

/**
 * A rolling restart of all three pods (SIGTERM, start again, next pod) while turns stream in three sessions: drivers
 * keep sending messages and move to another pod when theirs goes away, readers on other pods record every event
 * and resume with {@code afterSeq} when closed. Afterwards every acknowledged message is in its session's stored
 * stream, each stream is contiguous, and no reader was sent a seq twice with different content, or a gap.
 */
class ClusterRollingIT {
    private static final int SESSIONS = 3;

    private final AtomicBoolean driving = new AtomicBoolean(true);
    private final List<String> violations = new CopyOnWriteArrayList<>();

    @Test
    void aRollingRestartWithTurnsStreamingLosesNothingAcknowledgedAndSendsNoSeqTwice() throws Exception {
        try (TestCluster cluster = new TestCluster("rolling", 3)) {
            List<String> sessions = new ArrayList<>();
            try (WsClient c = on(cluster, 0)) {
                for (int i = 0; i < SESSIONS; i++) {
                    sessions.add(c.createSession("rolling " + i));
                }
            }
            ExecutorService threads = Executors.newCachedThreadPool();
            List<Set<String>> acknowledged = new ArrayList<>();
            List<Map<Long, String>> received = new ArrayList<>();
            List<Future<?>> work = new ArrayList<>();
            AtomicBoolean reading = new AtomicBoolean(true);
            for (int i = 0; i < SESSIONS; i++) {
                Set<String> acks = ConcurrentHashMap.newKeySet();
                Map<Long, String> seen = new ConcurrentHashMap<>();
                acknowledged.add(acks);
                received.add(seen);
                String id = sessions.get(i);
                int home = i;
                work.add(threads.submit(() -> drive(cluster, id, home, acks)));
                work.add(threads.submit(() -> read(cluster, id, home + 1, seen, reading)));
            }
            Thread.sleep(2000);
            for (int pod = 0; pod < cluster.size(); pod++) {
                assertThat(cluster.restart(pod)).as("pod %d stopped cleanly", pod).isTrue();
                Thread.sleep(1500);
            }
            driving.set(false);
            for (int i = 0; i < SESSIONS; i++) {
                work.get(2 * i).get(120, TimeUnit.SECONDS);
            }

            try (WsClient c = on(cluster, 1)) {
                for (int i = 0; i < SESSIONS; i++) {
                    String id = sessions.get(i);
                    List<JsonNode> stored = c.history(id);
                    for (int k = 0; k < stored.size(); k++) {
                        assertThat(stored.get(k).path("seq").asLong()).as("stored seq at %d of %s", k, id).isEqualTo(k + 1);
                    }
                    assertThat(stored).filteredOn(e -> e.path("kind").asText().equals("user_message"))
                            .extracting(e -> e.path("turnId").asText()).as("acknowledged messages of %s", id)
                            .containsAll(acknowledged.get(i));
                    assertThat(acknowledged.get(i)).as("messages acknowledged in %s", id).hasSizeGreaterThan(2);
                    long last = stored.get(stored.size() - 1).path("seq").asLong();
                    Map<Long, String> seen = received.get(i);
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (!seen.containsKey(last) && System.nanoTime() < deadline) {
                        Thread.sleep(50);
                    }
                    assertThat(seen).as("the reader of %s got every stored event", id).hasSize(stored.size());
                    for (JsonNode e : stored) {
                        assertThat(seen.get(e.path("seq").asLong())).as("seq %d of %s", e.path("seq").asLong(), id)
                                .isEqualTo(e.toString());
                    }
                }
            } finally {
                reading.set(false);
                threads.shutdownNow();
            }
            assertThat(violations).isEmpty();
        }
    }

    private static WsClient on(TestCluster cluster, int pod) {
        return WsClient.authenticated(cluster.pod(pod % cluster.size()).ws(), GatewayProcess.API_KEY);
    }

    /** Sends turns one after another, moving to the next pod whenever the connection is lost or refused. */
    private void drive(TestCluster cluster, String sessionId, int pod, Set<String> acks) {
        WsClient c = null;
        while (driving.get()) {
            try {
                if (c == null || c.isClosed()) {
                    c = on(cluster, pod);
                    c.subscribe(sessionId);
                }
                JsonNode reply = c.request("send_message", "sessionId", sessionId, "text", "/sim tokens=200 delay_ms=2");
                if (!reply.path("type").asText().equals("message_accepted")) {
                    Thread.sleep(100);
                    continue;
                }
                String turnId = reply.path("turnId").asText();
                acks.add(turnId);
                awaitTurnEnd(c, turnId);
                c.drain();
            } catch (AssertionError | RuntimeException | InterruptedException e) {
                if (c != null) {
                    c.close();
                }
                c = null;
                pod++;
                sleep(200);
            }
        }
        if (c != null) {
            c.close();
        }
    }

    /** Waits until the turn ended or the connection closed (its pod stopping), at most a minute. */
    private static void awaitTurnEnd(WsClient c, String turnId) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!c.isClosed() && System.nanoTime() < deadline) {
            try {
                c.await(e -> e.path("type").asText().equals("event") && turnId.equals(e.path("turnId").asText())
                        && Set.of("turn_completed", "turn_failed", "turn_cancelled").contains(e.path("kind").asText()),
                        Duration.ofMillis(500));
                return;
            } catch (AssertionError notYet) {
                // look at the connection again
            }
        }
    }

    /** Records every event of the session; resumes after its last seq on the next pod when its connection ends. */
    private void read(TestCluster cluster, String sessionId, int pod, Map<Long, String> seen, AtomicBoolean reading) {
        long last = 0;
        while (reading.get()) {
            try (WsClient c = on(cluster, pod)) {
                c.request("subscribe", "sessionId", sessionId, "afterSeq", last);
                while (reading.get() && !c.isClosed()) {
                    JsonNode e;
                    try {
                        e = c.await(f -> f.path("type").asText().equals("event"), Duration.ofMillis(500));
                    } catch (AssertionError timeout) {
                        continue;
                    }
                    long seq = e.path("seq").asLong();
                    if (seq != last + 1) {
                        violations.add(sessionId + ": seq " + seq + " after " + last);
                    }
                    String before = seen.putIfAbsent(seq, e.toString());
                    if (before != null && !before.equals(e.toString())) {
                        violations.add(sessionId + ": seq " + seq + " sent twice with different content");
                    }
                    last = Math.max(last, seq);
                }
            } catch (AssertionError | RuntimeException e) {
                sleep(200);
            }
            pod++;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

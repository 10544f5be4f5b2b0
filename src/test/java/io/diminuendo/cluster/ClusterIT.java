package io.diminuendo.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.GatewayProcess;
import io.diminuendo.support.TestCluster;
import io.diminuendo.support.WsClient;

/**
 * Three gateway processes on one machine sharing one PostgreSQL database and one NATS server ({@link TestCluster}):
 * what a client sees must not depend on the pod it reached. The owner-loss test kills a pod, so it runs last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {
    private static final String OTHER_KEY = "it-key-other-tenant-01";
    private static TestCluster cluster;

    @BeforeAll
    static void startThreePods() throws Exception {
        cluster = new TestCluster("cluster", 3, "-Ddiminuendo.cluster.lease-expiry=3s",
                "-Ddiminuendo.auth.api-keys.other.key=" + OTHER_KEY,
                "-Ddiminuendo.auth.api-keys.other.user-id=olga",
                "-Ddiminuendo.auth.api-keys.other.tenant-id=elsewhere");
    }

    @AfterAll
    static void stopPods() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static WsClient on(int pod) {
        return WsClient.authenticated(cluster.pod(pod).ws(), GatewayProcess.API_KEY);
    }

    private static JsonNode tenantEvent(WsClient c, String event, String sessionId) {
        return c.await(f -> f.path("type").asText().equals("tenant_event") && f.path("event").asText().equals(event)
                && (f.path("session").path("id").asText().equals(sessionId)
                        || f.path("sessionId").asText().equals(sessionId)));
    }

    /** Creates a session on pod {@code pod} and waits until every pod has announced it. */
    private static String sessionSeenEverywhere(WsClient[] clients, int pod, String title) {
        String id = clients[pod].createSession(title);
        for (WsClient c : clients) {
            tenantEvent(c, "session_created", id);
        }
        return id;
    }

    private static void assertContiguousFromOne(List<JsonNode> events) {
        for (int i = 0; i < events.size(); i++) {
            assertThat(events.get(i).path("seq").asLong()).as("seq at position %d", i).isEqualTo(i + 1);
        }
    }

    @Test
    @Order(1)
    void sessionChangesOnOnePodAreSeenOnEveryPodAndNeverByAnotherTenant() {
        WsClient[] c = {on(0), on(1), on(2)};
        try (WsClient outsider = WsClient.authenticated(cluster.pod(1).ws(), OTHER_KEY)) {
            String id = sessionSeenEverywhere(c, 0, "shared");
            assertThat(c[2].request("get_session", "sessionId", id).path("session").path("title").asText())
                    .isEqualTo("shared");

            c[1].request("update_session", "sessionId", id, "title", "renamed on b");
            for (WsClient client : c) {
                assertThat(tenantEvent(client, "session_updated", id).path("session").path("title").asText())
                        .isEqualTo("renamed on b");
            }
            assertThat(c[2].request("list_sessions").path("items")).extracting(n -> n.path("id").asText()).contains(id);
            assertThat(c[0].request("get_session", "sessionId", id).path("session").path("title").asText())
                    .isEqualTo("renamed on b");

            assertThat(c[2].request("delete_session", "sessionId", id).path("type").asText()).isEqualTo("session_deleted");
            for (WsClient client : c) {
                tenantEvent(client, "session_deleted", id);
            }
            assertThat(c[0].request("get_session", "sessionId", id).path("code").asText()).isEqualTo("not_found");
            assertThat(outsider.request("get_session", "sessionId", id).path("code").asText()).isEqualTo("not_found");
            outsider.request("ping");
            assertThat(outsider.drain()).noneMatch(f -> f.path("type").asText().equals("tenant_event"));
        } finally {
            for (WsClient client : c) {
                client.close();
            }
        }
    }

    @Test
    @Order(2)
    void subscribersOnThreePodsReceiveTheSameContiguousTurnStartedFromAFourthConnection() throws Exception {
        WsClient[] c = {on(0), on(1), on(2)};
        double published = cluster.pod(1).metric("diminuendo_bus_published_total", "");
        double received0 = cluster.pod(0).metric("diminuendo_bus_received_total", "");
        double received2 = cluster.pod(2).metric("diminuendo_bus_received_total", "");
        try (WsClient driver = on(1)) {
            String id = sessionSeenEverywhere(c, 0, "fan-out");
            for (WsClient client : c) {
                client.subscribe(id);
            }
            driver.sendMessage(id, "/sim tokens=300 delay_ms=1");
            List<List<String>> seen = new ArrayList<>();
            for (WsClient client : c) {
                List<JsonNode> events = client.eventsUntilTurnEnds(id);
                assertContiguousFromOne(events);
                seen.add(events.stream().map(JsonNode::toString).toList());
            }
            assertThat(seen.get(0)).hasSizeGreaterThan(300).last().asString().contains("turn_completed");
            assertThat(seen.get(1)).isEqualTo(seen.get(0));
            assertThat(seen.get(2)).isEqualTo(seen.get(0));
            // the turn ran on the driver's pod: it published every event, and the others received them
            int events = seen.get(0).size();
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(
                    cluster.pod(1).metric("diminuendo_bus_published_total", "")).isGreaterThanOrEqualTo(published + events));
            assertThat(cluster.pod(0).metric("diminuendo_bus_received_total", "")).isGreaterThanOrEqualTo(received0 + events);
            assertThat(cluster.pod(2).metric("diminuendo_bus_received_total", "")).isGreaterThanOrEqualTo(received2 + events);
        } finally {
            for (WsClient client : c) {
                client.close();
            }
        }
    }

    @Test
    @Order(3)
    void cancelAndPermissionDecisionsFromAnotherPodReachTheTurnAndOnlyOneTurnRunsPerSession() throws Exception {
        WsClient[] c = {on(0), on(1), on(2)};
        double routed = cluster.pod(1).metric("diminuendo_bus_routed_commands_total", "");
        try {
            String id = sessionSeenEverywhere(c, 0, "routed");
            for (WsClient client : c) {
                client.subscribe(id);
            }
            String turn = c[0].sendMessage(id, "/sim hang");
            c[1].awaitEvent(id, "turn_started");
            c[2].awaitEvent(id, "turn_started");
            JsonNode conflict = c[2].request("send_message", "sessionId", id, "text", "me too");
            assertThat(conflict.path("code").asText()).isEqualTo("conflict");
            assertThat(conflict.path("message").asText()).contains(turn);

            JsonNode cancelled = c[1].request("cancel_turn", "sessionId", id);
            assertThat(cancelled.path("type").asText()).isEqualTo("cancel_requested");
            assertThat(cancelled.path("turnId").asText()).isEqualTo(turn);
            for (WsClient client : c) {
                assertThat(client.eventsUntilTurnEnds(id)).last().satisfies(e -> {
                    assertThat(e.path("kind").asText()).isEqualTo("turn_cancelled");
                    assertThat(e.path("turnId").asText()).isEqualTo(turn);
                });
            }
            assertThat(c[2].request("cancel_turn", "sessionId", id).path("code").asText()).isEqualTo("conflict");

            c[2].sendMessage(id, "/sim permission");
            String requestId = c[0].awaitEvent(id, "permission_request").path("data").path("requestId").asText();
            c[1].awaitEvent(id, "permission_request");
            JsonNode accepted = c[1].request("permission_decision", "sessionId", id, "requestId", requestId,
                    "decision", "allow");
            assertThat(accepted.path("type").asText()).isEqualTo("permission_decision_accepted");
            assertThat(cluster.pod(1).metric("diminuendo_bus_routed_commands_total", ""))
                    .as("the cancel and the decision went to the pods running the turns").isEqualTo(routed + 2);
            c[0].awaitEvent(id, "permission_resolved");
            assertThat(c[0].request("permission_decision", "sessionId", id, "requestId", requestId, "decision", "deny")
                    .path("code").asText()).isIn("conflict", "not_found");
            assertThat(c[0].eventsUntilTurnEnds(id)).last()
                    .satisfies(e -> assertThat(e.path("kind").asText()).isEqualTo("turn_completed"));
        } finally {
            for (WsClient client : c) {
                client.close();
            }
        }
    }

    @Test
    @Order(4)
    void aSubscriberJoiningOnOnePodWhileTheTurnStreamsOnAnotherGetsEveryEventOnce() {
        try (WsClient a = on(0); WsClient b = on(1); WsClient late = on(2)) {
            String id = a.createSession("mid-turn");
            tenantEvent(late, "session_created", id);
            a.subscribe(id);
            a.sendMessage(id, "/sim tokens=3000 delay_ms=1");
            a.await(e -> e.path("type").asText().equals("event") && e.path("seq").asLong() >= 200);
            late.request("subscribe", "sessionId", id, "afterSeq", 0);
            List<JsonNode> events = late.eventsUntilTurnEnds(id);
            assertContiguousFromOne(events);
            assertThat(events).hasSizeGreaterThan(3000);
            assertThat(b.history(id)).hasSize(events.size());
        }
    }

    @Test
    @Order(5)
    void whenThePodRunningATurnIsKilledAnotherEndsTheTurnAndTheSessionGoesOn() throws Exception {
        try (WsClient owner = on(0); WsClient b = on(1)) {
            String id = owner.createSession("orphan");
            tenantEvent(b, "session_created", id);
            b.subscribe(id);
            String epoch = b.request("get_session", "sessionId", id).path("session").path("epoch").asText();
            String turn = owner.sendMessage(id, "/sim hang");
            b.awaitEvent(id, "turn_started");
            cluster.pod(0).kill();

            JsonNode failed = b.await(e -> e.path("type").asText().equals("event")
                    && e.path("kind").asText().equals("turn_failed"), Duration.ofSeconds(30));
            assertThat(failed.path("turnId").asText()).isEqualTo(turn);
            assertThat(failed.path("data").path("code").asText()).isEqualTo("owner_lost");
            // counted once the takeover's writes have committed, which can be just after the event is seen
            await().atMost(Duration.ofSeconds(10)).until(() -> cluster.pod(1).metric("diminuendo_leases_takeovers_total", "")
                    + cluster.pod(2).metric("diminuendo_leases_takeovers_total", "") >= 1.0);
            assertThat(cluster.pod(1).metric("diminuendo_leases_takeovers_total", "")
                    + cluster.pod(2).metric("diminuendo_leases_takeovers_total", "")).as("one pod took the session over")
                    .isEqualTo(1.0);
            JsonNode session = b.request("get_session", "sessionId", id).path("session");
            assertThat(session.path("epoch").asText()).as("a new epoch after the owner's loss").isNotEqualTo(epoch);
            assertThat(session.path("status").asText()).isEqualTo("idle");

            b.drain();
            List<JsonNode> next = b.runTurn(id, "still here");
            assertThat(next.get(0).path("seq").asLong()).isEqualTo(failed.path("seq").asLong() + 1);
            assertThat(next).last().satisfies(e -> assertThat(e.path("kind").asText()).isEqualTo("turn_completed"));
        }
    }
}

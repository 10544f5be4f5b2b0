package io.diminuendo.health;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import io.diminuendo.support.Keys;
import io.diminuendo.support.Metrics;
import io.diminuendo.support.TestDatabases;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;

/** {@code /health}, the SmallRye health probes and the gateway's Prometheus meters. */
@QuarkusTest
class HealthTest {

    @TestHTTPResource("/ws")
    URI ws;

    @Test
    void healthAnswersOkWithTheSimulatedUpstreamTheStoreAndTheVersionWithoutAuthentication() {
        JsonPath body = given().when().get("/health")
                .then().statusCode(200).contentType("application/json").extract().jsonPath();
        assertThat(body.getString("status")).isEqualTo("ok");
        assertThat(body.getString("upstreams.simulated.status")).isEqualTo("up");
        assertThat(body.getLong("upstreams.simulated.checkedAt")).isPositive();
        assertThat(body.getMap("upstreams.simulated")).containsKey("latencyMs");
        assertThat(body.getString("store.status")).isEqualTo("up");
        assertThat(body.getString("version")).isNotBlank();
    }

    @Test
    void livenessAndReadinessAreUpAndReadinessProvesTheStoreWritable() {
        given().port(Metrics.managementPort()).when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"))
                .body("checks.name", hasItem("writer"));
        JsonPath ready = given().port(Metrics.managementPort()).when().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"))
                .extract().jsonPath();
        Map<String, Object> store = ready.getMap("checks.find { it.name == 'store' }");
        assertThat(store).isNotNull();
        assertThat(store.get("status")).isEqualTo("UP");
        assertThat(ready.getBoolean("checks.find { it.name == 'store' }.data.writable")).isTrue();
        assertThat(ready.getBoolean("checks.find { it.name == 'store' }.data.writerHealthy")).isTrue();
        assertThat(ready.getBoolean("checks.find { it.name == 'store' }.data.shuttingDown")).isFalse();
    }

    @Test
    void metricsExposeTheGatewayMeters() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            // make sure events were published and persisted at least once in this run
            String id = alice.createSession("metrics");
            alice.request("subscribe", "sessionId", id);
            alice.request("send_message", "sessionId", id, "text", "/sim tokens=2");
            alice.awaitEvent(id, "turn_completed");

            String metrics = Metrics.scrape();
            for (String name : List.of("diminuendo_events_published_total", "diminuendo_events_persisted_total",
                    "diminuendo_writer_queue_depth", "diminuendo_writer_batch_size_count",
                    "diminuendo_writer_batch_size_sum", "diminuendo_writer_commit_latency_seconds_count",
                    "diminuendo_writer_commit_latency_seconds_sum", "diminuendo_connections_open",
                    "diminuendo_connections_authenticated", "diminuendo_sessions",
                    "diminuendo_connections_slow_consumer_closes_total", "diminuendo_outbound_bytes",
                    "diminuendo_outbound_bytes_budget")) {
                assertThat(metrics).as(name).containsPattern("(?m)^" + name + "(\\{[^}]*\\})? ");
            }
            for (String code : List.of("bad_request", "unauthorized", "forbidden", "not_found", "conflict", "too_large",
                    "internal")) {
                assertThat(metrics).containsPattern("(?m)^diminuendo_errors_total\\{[^}]*code=\"" + code + "\"");
            }
            assertThat(Metrics.valueIn(metrics, "diminuendo_events_published_total", "")).isGreaterThanOrEqualTo(6);
            assertThat(Metrics.valueIn(metrics, "diminuendo_events_persisted_total", "")).isPositive();
            assertThat(Metrics.valueIn(metrics, "diminuendo_connections_open", "")).isGreaterThanOrEqualTo(1);
            assertThat(Metrics.valueIn(metrics, "diminuendo_connections_authenticated", "")).isGreaterThanOrEqualTo(1);
            assertThat(Metrics.valueIn(metrics, "diminuendo_sessions", "")).isGreaterThanOrEqualTo(1);
            assertThat(Metrics.valueIn(metrics, "diminuendo_writer_batch_size_count", "")).isPositive();
            assertThat(Metrics.valueIn(metrics, "diminuendo_outbound_bytes_budget", "")).isEqualTo(128 * 1024 * 1024);
            for (String limit : List.of("outbound_bytes", "outbound_bytes_total", "history_wait")) {
                assertThat(metrics).containsPattern("(?m)^diminuendo_limit_hits_total\\{[^}]*limit=\"" + limit + "\"");
            }
        }
    }

    @Test
    void theMetricsCatalogueInTheDocsListsExactlyTheGatewayMetricsServed() throws Exception {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String id = alice.createSession("catalogue");
            alice.request("subscribe", "sessionId", id);
            alice.request("send_message", "sessionId", id, "text", "/sim tokens=2");
            alice.awaitEvent(id, "turn_completed");

            Set<String> catalogue = MetricsCatalogue.names();
            Set<String> served = new TreeSet<>();
            Matcher m = Pattern.compile("(?m)^(diminuendo_[a-z_]+)[{ ]").matcher(Metrics.scrape());
            while (m.find()) {
                String name = m.group(1).replaceFirst("_(count|sum|max|bucket)$", "");
                served.add(catalogue.contains(name) ? name : m.group(1));
            }
            Set<String> notServedHere = new TreeSet<>(Set.of("diminuendo_backend_frames_malformed_total",
                    "diminuendo_backend_frames_orphaned_total", "diminuendo_backend_reconnects_total"));
            if (TestDatabases.POSTGRESQL) {
                notServedHere.add("diminuendo_store_free_bytes");
            }
            assertThat(served).isSubsetOf(catalogue);
            Set<String> missing = new TreeSet<>(catalogue);
            missing.removeAll(served);
            assertThat(missing).as("documented but not served (only network backends register the backend_frames and"
                    + " reconnects meters, only the SQLite store the free space)").isSubsetOf(notServedHere);
        }
    }

    @Test
    void backendUpGaugeReportsTheSimulatedBackendAsUp() {
        assertThat(Metrics.scrape()).containsPattern("(?m)^diminuendo_backend_up\\{[^}]*backend=\"simulated\"[^}]*\\} 1\\.0$");
    }

    @Test
    void theErrorCounterCountsNotFoundReplies() {
        double before = Metrics.valueIn(Metrics.scrape(), "diminuendo_errors_total", "code=\"not_found\"");
        String missing = UUID.randomUUID().toString();
        given().header("Authorization", "Bearer " + Keys.ALICE).when().get("/api/sessions/" + missing)
                .then().statusCode(404).body("code", equalTo("not_found"));
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            assertThat(alice.request("get_session", "sessionId", missing).path("code").asText()).isEqualTo("not_found");
        }
        double after = Metrics.valueIn(Metrics.scrape(), "diminuendo_errors_total", "code=\"not_found\"");
        assertThat(after).isGreaterThanOrEqualTo(before + 2);
    }

    @Test
    void probesAndMetricsAreOnlyOnTheManagementPort() {
        given().when().get("/q/metrics").then().statusCode(404);
        given().when().get("/q/health/ready").then().statusCode(404);
        given().when().get("/health").then().statusCode(200);
        given().port(Metrics.managementPort()).when().get("/q/metrics").then().statusCode(200);
    }
}

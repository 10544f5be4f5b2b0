package io.diminuendo.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.support.GatewayProcess;

/** The packaged jar runs in the prod profile: no default credentials, and bad settings stop it at start-up. */
class ProdProfileIT {

    private static String db() throws Exception {
        return "-Ddiminuendo.store.path=" + GatewayProcess.freshDb();
    }

    @Test
    void logsOneJsonObjectPerLine() throws Exception {
        Path db = GatewayProcess.freshDb();
        ObjectMapper json = new ObjectMapper();
        try (GatewayProcess gw = GatewayProcess.start(db, "prod-json-logs")) {
            assertThat(gw.stop()).isTrue();
            List<String> lines = gw.log().lines().filter(l -> !l.isBlank()).toList();
            assertThat(lines).isNotEmpty();
            for (String line : lines) {
                JsonNode record = json.readTree(line);
                assertThat(record.path("level").asText()).as(line).isNotEmpty();
                assertThat(record.has("message")).as(line).isTrue();
            }
            assertThat(lines).anyMatch(l -> l.contains("started in")).anyMatch(l -> l.contains("graceful stop"));
        }
    }

    @Test
    void refusesToStartWithoutKeyMaterialAndNamesTheProperty() throws Exception {
        try (GatewayProcess gw = GatewayProcess.launch("prod-no-keys", List.of(db()))) {
            assertThat(gw.awaitExit(Duration.ofSeconds(120))).isNotZero();
            assertThat(gw.log()).contains("diminuendo.auth.jwt-secret").contains("no key material");
        }
    }

    @Test
    void refusesTheDocumentedDevKey() throws Exception {
        try (GatewayProcess gw = GatewayProcess.launch("prod-dev-key", List.of(db(),
                "-Ddiminuendo.auth.api-keys.dev.key=" + ConfigValidator.DEV_KEY,
                "-Ddiminuendo.auth.api-keys.dev.user-id=dev", "-Ddiminuendo.auth.api-keys.dev.tenant-id=dev"))) {
            assertThat(gw.awaitExit(Duration.ofSeconds(120))).isNotZero();
            assertThat(gw.log()).contains("diminuendo.auth.api-keys.dev.key");
        }
    }

    @Test
    void refusesNatsBetweenPodsOnAnSqliteFileAndAClusterWithoutAddressesNamingTheProperties() throws Exception {
        try (GatewayProcess gw = GatewayProcess.launch("prod-nats-on-sqlite", List.of(db(),
                "-Ddiminuendo.bus.kind=nats", "-Ddiminuendo.bus.url=nats://127.0.0.1:4222"))) {
            assertThat(gw.awaitExit(Duration.ofSeconds(120))).isNotZero();
            assertThat(gw.log()).contains("diminuendo.bus.kind=nats needs diminuendo.store.kind=postgresql");
        }
        try (GatewayProcess gw = GatewayProcess.launch("prod-cluster-no-urls", List.of(
                "-Ddiminuendo.store.kind=postgresql", "-Ddiminuendo.bus.kind=nats",
                "-Ddiminuendo.cluster.lease-expiry=100ms"))) {
            assertThat(gw.awaitExit(Duration.ofSeconds(120))).isNotZero();
            assertThat(gw.log()).contains("diminuendo.store.jdbc-url must be a jdbc:postgresql: URL")
                    .contains("diminuendo.bus.url must name the NATS server")
                    .contains("diminuendo.cluster.lease-expiry");
        }
    }

    @Test
    void namesEveryInvalidPropertyAtStartUp() throws Exception {
        try (GatewayProcess gw = GatewayProcess.launch("prod-bad-values", List.of(db(),
                "-Ddiminuendo.auth.jwt-secret=short",
                "-Ddiminuendo.limits.outbound-queue=1",
                "-Ddiminuendo.limits.outbound-bytes-total=1024",
                "-Ddiminuendo.limits.max-reply-bytes=8388608",
                "-Ddiminuendo.auth.jwt-public-key-location=/nonexistent/key.pem"))) {
            assertThat(gw.awaitExit(Duration.ofSeconds(120))).isNotZero();
            assertThat(gw.log()).contains("diminuendo.auth.jwt-secret must be at least 32 bytes")
                    .contains("diminuendo.limits.outbound-queue must be at least 16")
                    .contains("diminuendo.limits.outbound-bytes-total (1024) must be at least diminuendo.limits.outbound-bytes")
                    .contains("diminuendo.limits.max-reply-bytes (8388608) must be at most half of diminuendo.limits.outbound-bytes")
                    .contains("diminuendo.auth.jwt-public-key-location");
        }
    }
}

package io.diminuendo.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.support.Keys;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The load client (docs/benchmarks.md) against the real gateway, with tiny iteration counts: every benchmark a
 * newcomer runs first must complete, produce its figures and find no lost event. Not a performance test: the
 * values are only checked for being present and sane.
 */
@QuarkusTest
class LoadClientTest {

    @TestHTTPResource("/")
    URI base;

    @Test
    void everyGatewayBenchmarkCompletesAndReportsItsFigures(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("results.json");
        String url = base.toString().replaceAll("/$", "");
        LoadConfig cfg = LoadConfig.parse(new String[] {"--base-url", url, "--api-key", "test-key-bench",
                "--env-file", dir.resolve("none.env").toString(), "--benchmarks", "health,connect,session,stream",
                "--client-warmup", "0", "--warmup", "2", "--health-iterations", "50", "--health-duration", "1",
                "--health-warmup-duration", "0", "--connect-iterations", "10", "--session-iterations", "10",
                "--stream-subscribers", "1,3", "--stream-tokens", "300", "--stream-rounds", "1",
                "--stream-warmup-tokens", "0", "--json", json.toString()}, Map.of());

        assertThat(LoadClient.run(cfg)).as("exit status (1 = a benchmark failed)").isZero();

        JsonNode results = new ObjectMapper().readTree(json.toFile()).path("results");
        String target = results.path("health").path("targets").fieldNames().next();
        JsonNode health = results.path("health").path("targets").path(target);
        assertThat(health.path("p50Ms").asDouble()).isPositive();
        assertThat(health.path("concurrentPerSec").asDouble()).isPositive();
        JsonNode connect = results.path("connect").path("targets").path(target);
        assertThat(connect.path("frameP50Ms").asDouble()).isPositive();
        assertThat(connect.path("headerP50Ms").asDouble()).isPositive();
        assertThat(connect.path("frameUpgradeP50Ms").asDouble()).isPositive()
                .isLessThan(connect.path("frameP50Ms").asDouble());
        assertThat(results.path("session").path("targets").path(target).path("p50Ms").asDouble()).isPositive();
        for (String k : new String[] {"stream.k1", "stream.k3"}) {
            JsonNode s = results.path(k).path("targets").path(target);
            assertThat(s.path("lost").asLong(-1)).as(k + " lost").isZero();
            assertThat(s.path("events").asLong()).as(k + " events per turn").isEqualTo(304);
            assertThat(s.path("deliveriesPerSec").asDouble()).as(k + " deliveries/s").isPositive();
        }
    }

    @Test
    void mintedJwtsAuthenticateEachPassIsReportedAndTheSecretIsMasked(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("results.json");
        String url = base.toString().replaceAll("/$", "");
        LoadConfig cfg = LoadConfig.parse(new String[] {"--base-url", url, "--jwt-secret", Keys.HS256_SECRET,
                "--jwt-users", "5", "--env-file", dir.resolve("none.env").toString(), "--benchmarks", "connect,session",
                "--client-warmup", "0", "--warmup", "0", "--connect-iterations", "10", "--session-iterations", "5",
                "--passes", "2", "--json", json.toString()}, Map.of());
        assertThat(cfg.describe().get("jwt-secret")).doesNotContain(Keys.HS256_SECRET);
        assertThat(cfg.masked("java -Ddiminuendo.auth.jwt-secret=" + Keys.HS256_SECRET + " -jar x.jar"))
                .doesNotContain(Keys.HS256_SECRET);

        assertThat(LoadClient.run(cfg)).as("exit status (1 = a benchmark failed)").isZero();

        JsonNode report = new ObjectMapper().readTree(json.toFile());
        assertThat(report.toString()).doesNotContain(Keys.HS256_SECRET);
        JsonNode results = report.path("results");
        for (String key : new String[] {"connect", "connect#2", "session", "session#2"}) {
            JsonNode targets = results.path(key).path("targets");
            assertThat(targets.size()).as(key).isEqualTo(1);
            JsonNode figures = targets.elements().next();
            assertThat(figures.path(key.startsWith("connect") ? "frameP50Ms" : "p50Ms").asDouble()).as(key).isPositive();
        }
    }

    @Test
    void theClientCanWarmUpAgainstAnotherGatewayThanTheOneMeasured(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("results.json");
        String url = base.toString().replaceAll("/$", "");
        // the test has one gateway: it plays the decoy under another spelling of its address
        String decoy = url.replace("localhost", "127.0.0.1");
        LoadConfig cfg = LoadConfig.parse(new String[] {"--base-url", url, "--api-key", "test-key-bench",
                "--env-file", dir.resolve("none.env").toString(), "--benchmarks", "session",
                "--client-warmup-url", decoy, "--client-warmup", "0.2", "--client-warmup-rounds", "5",
                "--warmup", "0", "--session-iterations", "5", "--json", json.toString()}, Map.of());

        assertThat(LoadClient.run(cfg)).as("exit status (1 = a benchmark failed)").isZero();

        JsonNode report = new ObjectMapper().readTree(json.toFile());
        assertThat(report.path("meta").path("warm-up").asText()).contains(decoy + ", not a target,");
        assertThat(report.path("results").path("session").path("targets").size()).isEqualTo(1);
    }
}

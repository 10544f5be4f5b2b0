package io.diminuendo.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * The load client's paced benchmark against the real gateway, at a tiny scale: the client serves the agent backend
 * the gateway streams from, and every delta emitted in the measured window reaches every subscriber of its session
 * with a positive emit→receive time. Not a performance test.
 */
@QuarkusTest
@TestProfile(PacedLoadTest.Profile.class)
class PacedLoadTest {
    static final int PORT = freePort();

    /** The gateway with a {@code websocket} backend {@code paced} at the port the load client will listen on. */
    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("diminuendo.backends.paced.kind", "websocket",
                    "diminuendo.backends.paced.url", "ws://127.0.0.1:" + PORT + "/agent",
                    "diminuendo.backends.paced.reconnect-min", "50ms",
                    "diminuendo.backends.paced.reconnect-max", "200ms");
        }
    }

    @TestHTTPResource("/")
    URI base;

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void everyPacedDeltaReachesEverySubscriberOfItsSession(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("results.json");
        LoadConfig cfg = LoadConfig.parse(new String[] {"--base-url", base.toString().replaceAll("/$", ""),
                "--api-key", "test-key-bench", "--env-file", dir.resolve("none.env").toString(), "--benchmarks", "paced",
                "--client-warmup", "0", "--paced-sessions", "4", "--paced-rate", "100", "--paced-subscribers", "3",
                "--paced-warmup", "0.5", "--paced-duration", "1.5", "--paced-backend", "paced",
                "--paced-backend-port", Integer.toString(PORT), "--json", json.toString()}, Map.of());

        assertThat(LoadClient.run(cfg)).as("exit status (1 = a benchmark failed)").isZero();

        JsonNode results = new ObjectMapper().readTree(json.toFile()).path("results").path("paced");
        JsonNode figures = results.path("targets").elements().next();
        JsonNode details = figures.path("details");
        // 4 sessions × 100/s over 1.5 s, each delta expected at 3 subscribers
        assertThat(details.path("emittedInWindow").asLong()).isBetween(400L, 700L);
        assertThat(details.path("expectedDeliveries").asLong()).isEqualTo(3 * details.path("emittedInWindow").asLong());
        assertThat(figures.path("lost").asLong(-1)).isZero();
        assertThat(figures.path("cut").asLong(-1)).isZero();
        assertThat(figures.path("deliveriesPerSec").asDouble()).isPositive();
        assertThat(figures.path("latP50Ms").asDouble()).isPositive().isLessThanOrEqualTo(figures.path("latP99Ms").asDouble());
    }
}

package io.diminuendo.warmup;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;

import jakarta.inject.Inject;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import io.diminuendo.auth.Authenticator;
import io.diminuendo.auth.InvalidTokenException;
import io.diminuendo.store.SessionStore;
import io.diminuendo.support.Metrics;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;

/**
 * The start-up warm-up (off in the other tests): readiness waits for it, it runs every round over the wire (sessions
 * created, turns streamed and persisted), leaves no session behind, and its key stops working when it ends.
 */
@QuarkusTest
@TestProfile(WarmupTest.Profile.class)
class WarmupTest {
    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("diminuendo.warmup.enabled", "true", "diminuendo.warmup.rounds", "6");
        }
    }

    @Inject
    SessionStore store;

    @Inject
    Authenticator auth;

    private static JsonPath ready() {
        return given().port(Metrics.managementPort()).when().get("/q/health/ready").then().extract().jsonPath();
    }

    /** The warm-up ends on its own thread after start-up; the tests wait for it (a second key would replace its one). */
    private static void awaitWarm() {
        Awaitility.await().atMost(Duration.ofSeconds(60))
                .until(() -> "UP".equals(ready().getString("checks.find { it.name == 'warm-up' }.status")));
    }

    @Test
    void readinessWaitsForEveryRoundAndNothingIsLeftBehind() {
        awaitWarm();
        JsonPath ready = ready();
        assertThat(ready.getInt("checks.find { it.name == 'warm-up' }.data.rounds")).isEqualTo(6);
        assertThat(ready.getString("status")).isEqualTo("UP");
        // the first round ran a turn of 20 deltas through the mapper, the sequencer and the store
        assertThat(Metrics.sum("diminuendo_events_persisted_total")).isGreaterThanOrEqualTo(20);
        assertThat(store.loadSessions()).noneMatch(s -> Warmup.TENANT.equals(s.session().tenantId()));
    }

    @Test
    void theWarmupKeyAuthenticatesOnlyUntilItIsClosed() throws Exception {
        awaitWarm();
        String key = auth.openWarmupKey(Warmup.TENANT, "warmup");
        assertThat(auth.authenticate(key).tenantId()).isEqualTo(Warmup.TENANT);
        auth.closeWarmupKey();
        assertThatThrownBy(() -> auth.authenticate(key)).isInstanceOf(InvalidTokenException.class);
    }

    @Test
    void theJwtStepVerifiesAValidTokenWithTheConfiguredSecretEachRound() {
        awaitWarm();
        auth.openWarmupKey(Warmup.TENANT, "warmup");
        try {
            // the test profile configures an HS256 secret: its warm-up token must pass the whole check, not fail early
            assertThat(auth.warmJwt(3)).isEqualTo(3);
        } finally {
            auth.closeWarmupKey();
        }
        assertThat(auth.warmJwt(3)).as("no warm-up key open: nothing to verify").isZero();
    }
}

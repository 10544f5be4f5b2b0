package io.diminuendo.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.sql.Connection;
import java.util.Map;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIf;

import com.fasterxml.jackson.databind.JsonNode;

import io.agroal.api.AgroalDataSource;
import io.diminuendo.support.Metrics;
import io.diminuendo.support.Tenants;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * The store's read pool has one connection here and gives up on acquiring it after 300 ms. While the test holds that
 * connection, a {@code history} request passes the read gate (its tenant and connection have slots free) and finds the
 * pool exhausted: it is answered {@code unavailable} with its id and a {@code retryAfterMs}, never {@code internal},
 * and the same request succeeds once the connection is back in the pool. SQLite only: the PostgreSQL store opens
 * its read pool itself (not the Quarkus datasource this test holds), and maps its acquisition timeout the same way.
 */
@QuarkusTest
@DisabledIf("io.diminuendo.support.TestDatabases#isPostgresql")
@TestProfile(ReadPoolExhaustedTest.OneReadConnection.class)
class ReadPoolExhaustedTest {

    public static class OneReadConnection implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.datasource.jdbc.max-size", "1",
                    "quarkus.datasource.jdbc.acquisition-timeout", "300ms");
        }
    }

    @TestHTTPResource("/ws")
    URI ws;

    /** The default datasource: the SQLite store's read pool. */
    @Inject
    AgroalDataSource readPool;

    @Test
    void aHistoryRequestThatFindsTheReadPoolExhaustedIsAnsweredUnavailableWithRetryAfterAndSucceedsOnceAConnectionIsFree()
            throws Exception {
        String token = Tenants.token(Tenants.fresh("read-pool"), "alice");
        try (WsClient c = WsClient.authenticated(ws, token)) {
            String sessionId = c.createSession("read pool");
            c.subscribe(sessionId);
            c.runTurn(sessionId, "/sim tokens=3 delay_ms=0");
            double internalBefore = Metrics.sum("diminuendo_errors_total", "code=\"internal\"");
            double unavailableBefore = Metrics.sum("diminuendo_errors_total", "code=\"unavailable\"");

            JsonNode refused;
            try (Connection held = readPool.getConnection()) {
                assertThat(held.isValid(1)).as("the test holds the pool's only connection").isTrue();
                String id = WsClient.nextId();
                c.send(WsClient.frame("history", "sessionId", sessionId, "afterSeq", 0, "limit", 100).put("id", id));
                refused = c.reply(id);
                assertThat(refused.path("id").asText()).as("the refused request's id").isEqualTo(id);
            }
            assertThat(refused.path("type").asText()).as("reply while the pool is exhausted: " + refused).isEqualTo("error");
            assertThat(refused.path("code").asText()).isEqualTo("unavailable");
            assertThat(refused.path("retryAfterMs").isIntegralNumber()).as("retryAfterMs present: " + refused).isTrue();
            assertThat(refused.path("retryAfterMs").asLong()).isPositive();
            assertThat(Metrics.sum("diminuendo_errors_total", "code=\"unavailable\"")).as("unavailable errors counted")
                    .isGreaterThan(unavailableBefore);
            assertThat(Metrics.sum("diminuendo_errors_total", "code=\"internal\"")).as("internal errors")
                    .isEqualTo(internalBefore);

            JsonNode page = c.request("history", "sessionId", sessionId, "afterSeq", 0, "limit", 100);
            assertThat(page.path("type").asText()).as("the same request with the connection released: " + page)
                    .isEqualTo("history");
            assertThat(page.path("events")).extracting(e -> e.path("seq").asLong())
                    .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L);
            assertThat(page.path("lastSeq").asLong()).isEqualTo(7);
        }
    }
}

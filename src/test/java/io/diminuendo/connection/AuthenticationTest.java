package io.diminuendo.connection;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.auth.TestTokens;
import io.diminuendo.support.Keys;
import io.diminuendo.support.TestEnvironment;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
class AuthenticationTest {

    @TestHTTPResource("/ws")
    URI ws;

    @Test
    void authenticatesWithAnApiKeyInTheFirstFrame() {
        try (WsClient c = WsClient.connect(ws)) {
            JsonNode reply = c.request("authenticate", "token", Keys.ALICE);
            assertThat(reply.path("type").asText()).isEqualTo("authenticated");
            assertThat(reply.path("user").path("id").asText()).isEqualTo("alice");
            assertThat(reply.path("user").path("tenantId").asText()).isEqualTo("acme");
            assertThat(reply.path("protocolVersion").asInt()).isEqualTo(1);
            assertThat(reply.path("connectionId").asText()).isNotBlank();
            assertThat(reply.path("serverTime").asLong()).isPositive();
        }
    }

    @Test
    void authenticatesWithTheAuthorizationHeaderAndPushesAuthenticatedWithoutId() {
        try (WsClient c = WsClient.connectWithHeader(ws, Keys.BOB)) {
            JsonNode pushed = c.await(n -> "authenticated".equals(n.path("type").asText()));
            assertThat(pushed.has("id")).isFalse();
            assertThat(pushed.path("user").path("id").asText()).isEqualTo("bob");
            assertThat(c.request("ping").path("type").asText()).isEqualTo("pong");
        }
    }

    @Test
    void acceptsHs256AndRs256Tokens() {
        String hs = TestTokens.hs256(Keys.HS256_SECRET.getBytes(), Map.of("sub", "hank", "tid", "acme",
                "scope", "sessions:read", "exp", System.currentTimeMillis() / 1000 + 60));
        try (WsClient c = WsClient.connect(ws)) {
            JsonNode reply = c.request("authenticate", "token", hs);
            assertThat(reply.path("user").path("id").asText()).isEqualTo("hank");
            assertThat(reply.path("user").path("scopes").toString()).isEqualTo("[\"sessions:read\"]");
        }
        String rs = TestTokens.rs256(TestEnvironment.rsaPrivateKey(), Map.of("sub", "rita", "tid", "globex",
                "exp", System.currentTimeMillis() / 1000 + 60));
        try (WsClient c = WsClient.connectWithHeader(ws, rs)) {
            JsonNode pushed = c.await(n -> "authenticated".equals(n.path("type").asText()));
            assertThat(pushed.path("user").path("tenantId").asText()).isEqualTo("globex");
            assertThat(pushed.path("user").path("scopes").toString()).isEqualTo("[\"sessions:read\",\"sessions:write\"]");
        }
    }

    @Test
    void rejectsAnUnknownTokenWithUnauthorizedAndClose4401() {
        try (WsClient c = WsClient.connect(ws)) {
            JsonNode reply = c.request("authenticate", "token", "not-a-key-at-all");
            assertThat(reply.path("type").asText()).isEqualTo("error");
            assertThat(reply.path("code").asText()).isEqualTo("unauthorized");
            assertThat(c.awaitClose()).isEqualTo(4401);
        }
    }

    @Test
    void rejectsAnExpiredToken() {
        String expired = TestTokens.hs256(Keys.HS256_SECRET.getBytes(), Map.of("sub", "old", "tid", "acme",
                "exp", System.currentTimeMillis() / 1000 - 3600));
        try (WsClient c = WsClient.connect(ws)) {
            JsonNode reply = c.request("authenticate", "token", expired);
            assertThat(reply.path("code").asText()).isEqualTo("unauthorized");
            assertThat(reply.path("message").asText()).contains("expired");
            assertThat(c.awaitClose()).isEqualTo(4401);
        }
    }

    @Test
    void rejectsATokenSignedWithAnotherSecret() {
        String forged = TestTokens.hs256("another-secret-another-secret-another".getBytes(),
                Map.of("sub", "mallory", "tid", "acme"));
        try (WsClient c = WsClient.connect(ws)) {
            assertThat(c.request("authenticate", "token", forged).path("code").asText()).isEqualTo("unauthorized");
            assertThat(c.awaitClose()).isEqualTo(4401);
        }
    }

    @Test
    void rejectsAnInvalidAuthorizationHeaderAfterTheUpgrade() {
        try (WsClient c = WsClient.connectWithHeader(ws, "bogus-token")) {
            JsonNode error = c.await(n -> "error".equals(n.path("type").asText()));
            assertThat(error.path("code").asText()).isEqualTo("unauthorized");
            assertThat(c.awaitClose()).isEqualTo(4401);
        }
    }

    @Test
    void refusesAnyOtherFrameBeforeAuthentication() {
        try (WsClient c = WsClient.connect(ws)) {
            JsonNode reply = c.request("list_sessions");
            assertThat(reply.path("code").asText()).isEqualTo("unauthorized");
            assertThat(c.awaitClose()).isEqualTo(4401);
        }
    }

    @Test
    void closesWith4408WhenNoAuthenticationArrivesInTime() {
        try (WsClient c = WsClient.connect(ws)) {
            assertThat(c.awaitClose(Duration.ofSeconds(6))).isEqualTo(4408);
        }
    }

    @Test
    void keepsTheIdentityOnReauthenticationAndRefusesAnotherUser() {
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            assertThat(c.request("authenticate", "token", Keys.ALICE).path("type").asText()).isEqualTo("authenticated");
            JsonNode other = c.request("authenticate", "token", Keys.BOB);
            assertThat(other.path("code").asText()).isEqualTo("forbidden");
            assertThat(c.request("ping").path("type").asText()).isEqualTo("pong");
        }
    }
}

package io.diminuendo.auth;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.Metrics;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * Tokens as an OIDC identity provider issues them: signed with a key published in its JWKS and named by {@code kid},
 * for an issuer and an audience. Over WebSocket and REST alike: the right issuer and audience are required, a key
 * rotated in after start-up is picked up with one refresh of the set, and tokens naming unknown key ids cannot make
 * the gateway hammer the provider.
 */
@QuarkusTest
@TestProfile(IdentityProviderProfile.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IdentityProviderTest {
    @TestHTTPResource("/ws")
    URI ws;

    private static Map<String, Object> claims(Object... overrides) {
        Map<String, Object> c = new HashMap<>(Map.of("sub", "idp-user", "tid", "idp-tenant",
                "iss", IdentityProviderProfile.ISSUER, "aud", IdentityProviderProfile.AUDIENCE,
                "scope", "sessions:read sessions:write", "exp", System.currentTimeMillis() / 1000 + 300));
        for (int i = 0; i < overrides.length; i += 2) {
            if (overrides[i + 1] == null) {
                c.remove((String) overrides[i]);
            } else {
                c.put((String) overrides[i], overrides[i + 1]);
            }
        }
        return c;
    }

    private static String provider(String path) {
        return given().baseUri(IdentityProviderProfile.Provider.url()).port(-1).when().get(path).then().statusCode(200)
                .extract().asString();
    }

    private static int requests() {
        return Integer.parseInt(provider("/requests"));
    }

    private JsonNode authenticate(String token) {
        try (WsClient c = WsClient.connect(ws)) {
            return c.request("authenticate", "token", token);
        }
    }

    private static int rest(String token) {
        return given().header("Authorization", "Bearer " + token).when().get("/api/sessions").then().extract()
                .statusCode();
    }

    @Test
    @Order(1)
    void aTokenSignedWithAPublishedKeyForThisIssuerAndAudienceIsAccepted() {
        String token = TestTokens.rs256(IdentityProviderProfile.Provider.privateKey("rsa-1"), "rsa-1", claims());
        JsonNode reply = authenticate(token);
        assertThat(reply.path("type").asText()).as("%s", reply).isEqualTo("authenticated");
        assertThat(reply.path("user").path("id").asText()).isEqualTo("idp-user");
        assertThat(rest(token)).isEqualTo(200);
        String manyAudiences = TestTokens.rs256(IdentityProviderProfile.Provider.privateKey("rsa-1"), "rsa-1",
                claims("aud", List.of("account", IdentityProviderProfile.AUDIENCE)));
        assertThat(authenticate(manyAudiences).path("type").asText()).isEqualTo("authenticated");
    }

    @Test
    @Order(2)
    void theWrongIssuerOrAudienceIsRefusedOverWebSocketAndRest() {
        var key = IdentityProviderProfile.Provider.privateKey("rsa-1");
        Map<String, String> bad = Map.of(
                "another issuer", TestTokens.rs256(key, "rsa-1", claims("iss", "https://evil.example.test")),
                "no issuer", TestTokens.rs256(key, "rsa-1", claims("iss", null)),
                "another audience", TestTokens.rs256(key, "rsa-1", claims("aud", "someone-else")),
                "no audience", TestTokens.rs256(key, "rsa-1", claims("aud", null)),
                "audience list without this gateway", TestTokens.rs256(key, "rsa-1", claims("aud", List.of("a", "b"))));
        bad.forEach((why, token) -> {
            JsonNode reply = authenticate(token);
            assertThat(reply.path("code").asText()).as(why).isEqualTo("unauthorized");
            assertThat(reply.path("message").asText()).as(why).containsAnyOf("issuer", "audience");
            assertThat(rest(token)).as(why).isEqualTo(401);
        });
    }

    @Test
    @Order(3)
    void aKeyRotatedInAfterStartUpIsFetchedOnceAndTokensNamingUnknownKeyIdsDoNotHammerTheProvider()
            throws Exception {
        Thread.sleep(2_100); // past the minimum refresh interval of the start-up fetch
        provider("/rotate");
        int before = requests();
        String rotated = TestTokens.rs256(IdentityProviderProfile.Provider.privateKey("rsa-2"), "rsa-2", claims());
        JsonNode first = authenticate(rotated);
        assertThat(first.path("type").asText()).as("a token of the new key, first seen: %s", first)
                .isEqualTo("authenticated");
        assertThat(rest(rotated)).isEqualTo(200);
        String ec = TestTokens.es256(IdentityProviderProfile.Provider.privateKey("ec-1"), "ec-1", claims());
        assertThat(authenticate(ec).path("type").asText()).as("the EC key of the same set").isEqualTo("authenticated");
        assertThat(requests() - before).as("fetches for the rotation").isEqualTo(1);

        before = requests();
        long started = System.nanoTime();
        for (int i = 0; i < 30; i++) {
            String forged = TestTokens.rs256(IdentityProviderProfile.Provider.privateKey("rsa-2"), "made-up-" + i, claims());
            JsonNode reply = authenticate(forged);
            assertThat(reply.path("code").asText()).isEqualTo("unauthorized");
            assertThat(reply.path("message").asText()).contains("not in the key set");
            assertThat(rest(forged)).isEqualTo(401);
        }
        // one fetch per 2 s interval at most: normally the loop takes well under 2 s, on a loaded machine longer
        long intervals = 1 + (System.nanoTime() - started) / 2_000_000_000L;
        assertThat(requests() - before).as("fetches caused by 60 tokens with unknown key ids in %d interval(s) of 2 s",
                intervals).isLessThanOrEqualTo((int) intervals);
        assertThat(Metrics.sum("diminuendo_auth_jwks_refreshes_total")).isGreaterThanOrEqualTo(2);
    }

    @Test
    @Order(4)
    void aKeyPublishedForEncryptionOrSignedByAnotherKeyIsRefused() {
        String wrongKey = TestTokens.rs256(IdentityProviderProfile.Provider.privateKey("rsa-2"), "rsa-1", claims());
        assertThat(authenticate(wrongKey).path("message").asText()).contains("signature does not verify");
        String encryptionKey = TestTokens.rs256(IdentityProviderProfile.Provider.privateKey("rsa-1"), "enc-1", claims());
        assertThat(authenticate(encryptionKey).path("code").asText()).isEqualTo("unauthorized");
    }
}

package io.diminuendo.session;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.Keys;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/** Another tenant's session does not exist for you: every request on it is {@code not_found} and changes nothing. */
@QuarkusTest
class TenantIsolationTest {

    @TestHTTPResource("/ws")
    URI ws;

    private static void assertNotFound(JsonNode reply, String what) {
        assertThat(reply.path("type").asText()).as(what).isEqualTo("error");
        assertThat(reply.path("code").asText()).as(what + ": " + reply).isEqualTo("not_found");
    }

    @Test
    void everyWebSocketRequestOnAnotherTenantsSessionIsNotFoundAndChangesNothing() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient eve = WsClient.authenticated(ws, Keys.EVE)) {
            String title = "acme-only-" + UUID.randomUUID();
            String id = alice.createSession(title);
            assertThat(alice.request("subscribe", "sessionId", id).path("type").asText()).isEqualTo("subscribed");
            // a running turn waiting for a permission decision: something eve could cancel or answer if she could reach it
            assertThat(alice.request("send_message", "sessionId", id, "text", "/sim permission").path("type").asText())
                    .isEqualTo("message_accepted");
            String requestId = alice.awaitEvent(id, "permission_request").path("data").path("requestId").asText();
            JsonNode before = alice.request("get_session", "sessionId", id).path("session");
            assertThat(before.path("status").asText()).isEqualTo("running");
            assertThat(before.path("lastSeq").asLong()).isPositive();

            assertNotFound(eve.request("get_session", "sessionId", id), "get_session");
            assertNotFound(eve.request("update_session", "sessionId", id, "title", "pwned"), "update_session");
            assertNotFound(eve.request("archive_session", "sessionId", id), "archive_session");
            assertNotFound(eve.request("delete_session", "sessionId", id), "delete_session");
            assertNotFound(eve.request("subscribe", "sessionId", id, "afterSeq", 0), "subscribe");
            assertNotFound(eve.request("history", "sessionId", id), "history");
            assertNotFound(eve.request("send_message", "sessionId", id, "text", "hi"), "send_message");
            assertNotFound(eve.request("cancel_turn", "sessionId", id), "cancel_turn");
            assertNotFound(eve.request("permission_decision", "sessionId", id, "requestId", requestId, "decision", "deny"),
                    "permission_decision");
            assertThat(eve.drain()).as("eve saw nothing of the session").noneMatch(n -> n.toString().contains(id));

            JsonNode after = alice.request("get_session", "sessionId", id).path("session");
            assertThat(after.path("title").asText()).isEqualTo(title);
            assertThat(after.path("status").asText()).isEqualTo("running");
            assertThat(after.path("lastSeq").asLong()).isEqualTo(before.path("lastSeq").asLong());
            assertThat(after.path("updatedAt").asLong()).isEqualTo(before.path("updatedAt").asLong());

            // the permission request is still pending for alice, and only her decision resolves it
            JsonNode accepted = alice.request("permission_decision", "sessionId", id, "requestId", requestId, "decision", "allow");
            assertThat(accepted.path("type").asText()).isEqualTo("permission_decision_accepted");
            JsonNode resolved = alice.awaitEvent(id, "permission_resolved");
            assertThat(resolved.path("data").path("decision").asText()).isEqualTo("allow");
            assertThat(resolved.path("data").path("userId").asText()).isEqualTo("alice");
            alice.awaitEvent(id, "turn_completed");
        }
    }

    @Test
    void listSessionsNeverShowsAnotherTenantsSessions() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient eve = WsClient.authenticated(ws, Keys.EVE)) {
            String acme = alice.createSession("acme-list-" + UUID.randomUUID());
            String globex = eve.createSession("globex-list-" + UUID.randomUUID());

            JsonNode page = eve.request("list_sessions", "limit", 200);
            List<String> ids = new ArrayList<>();
            page.path("items").forEach(s -> {
                ids.add(s.path("id").asText());
                assertThat(s.path("tenantId").asText()).isEqualTo("globex");
            });
            assertThat(ids).contains(globex).doesNotContain(acme);

            JsonNode archived = eve.request("list_sessions", "status", "idle", "limit", 200);
            archived.path("items").forEach(s -> assertThat(s.path("tenantId").asText()).isEqualTo("globex"));

            JsonNode acmePage = alice.request("list_sessions", "limit", 200);
            acmePage.path("items").forEach(s -> assertThat(s.path("tenantId").asText()).isEqualTo("acme"));
            assertThat(acmePage.toString()).contains(acme).doesNotContain(globex);
        }
    }

    @Test
    void theRestApiAnswersNotFoundForAnotherTenantsSessionAndLeavesItAlone() {
        String title = "acme-rest-" + UUID.randomUUID();
        String id = given().header("Authorization", "Bearer " + Keys.ALICE).contentType("application/json")
                .body("{\"title\":\"" + title + "\"}")
                .when().post("/api/sessions").then().statusCode(201).extract().path("id");

        for (String path : new String[] { "/api/sessions/" + id, "/api/sessions/" + id + "/events" }) {
            given().header("Authorization", "Bearer " + Keys.EVE).when().get(path)
                    .then().statusCode(404).contentType("application/json").body("code", equalTo("not_found"));
        }
        given().header("Authorization", "Bearer " + Keys.EVE).when().delete("/api/sessions/" + id)
                .then().statusCode(404).body("code", equalTo("not_found"));
        given().header("Authorization", "Bearer " + Keys.EVE).contentType("application/json").body("{\"title\":\"pwned\"}")
                .when().patch("/api/sessions/" + id).then().statusCode(404).body("code", equalTo("not_found"));
        given().header("Authorization", "Bearer " + Keys.EVE).when().post("/api/sessions/" + id + "/archive")
                .then().statusCode(404).body("code", equalTo("not_found"));

        List<String> evesIds = given().header("Authorization", "Bearer " + Keys.EVE).queryParam("limit", 200)
                .when().get("/api/sessions").then().statusCode(200).extract().path("items.id");
        assertThat(evesIds).doesNotContain(id);

        given().header("Authorization", "Bearer " + Keys.ALICE).when().get("/api/sessions/" + id)
                .then().statusCode(200).body("id", equalTo(id)).body("title", equalTo(title))
                .body("status", equalTo("idle")).body("lastSeq", equalTo(0));
    }
}

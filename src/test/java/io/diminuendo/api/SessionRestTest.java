package io.diminuendo.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.Keys;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;

/** The REST API (docs/protocol.md, "2. HTTP"): same registry, rules and error codes as the WebSocket, JSON error bodies. */
@QuarkusTest
class SessionRestTest {

    @TestHTTPResource("/ws")
    URI ws;

    private static RequestSpecification as(String key) {
        return given().header("Authorization", "Bearer " + key);
    }

    private static String create(String key, String title) {
        return as(key).contentType("application/json").body(Map.of("title", title))
                .when().post("/api/sessions").then().statusCode(201).extract().path("id");
    }

    @Test
    void postCreatesASessionAndAnswers201WithTheSessionObject() {
        String title = "rest-create-" + UUID.randomUUID();
        long before = System.currentTimeMillis();
        JsonPath s = as(Keys.ALICE).contentType("application/json").body(Map.of("title", title))
                .when().post("/api/sessions")
                .then().statusCode(201).contentType("application/json").extract().jsonPath();

        assertThat(UUID.fromString(s.getString("id")).toString()).isEqualTo(s.getString("id"));
        assertThat(s.getString("tenantId")).isEqualTo("acme");
        assertThat(s.getString("ownerId")).isEqualTo("alice");
        assertThat(s.getString("title")).isEqualTo(title);
        assertThat(s.getString("status")).isEqualTo("idle");
        assertThat(s.getLong("createdAt")).isBetween(before, System.currentTimeMillis());
        assertThat(s.getLong("updatedAt")).isEqualTo(s.getLong("createdAt"));
        assertThat(s.getInt("lastSeq")).isZero();
        assertThat(s.getString("epoch")).isNotBlank();
    }

    @Test
    void getListsSessionsAsItemsWithANextCursor() {
        String first = create(Keys.ALICE, "rest-list-a-" + UUID.randomUUID());
        long afterFirst = System.currentTimeMillis();
        await().until(() -> System.currentTimeMillis() > afterFirst);
        String second = create(Keys.BOB, "rest-list-b-" + UUID.randomUUID());

        JsonPath all = as(Keys.ALICE).queryParam("limit", 200).when().get("/api/sessions")
                .then().statusCode(200).contentType("application/json").extract().jsonPath();
        assertThat(all.getMap("$")).containsOnlyKeys("items", "nextCursor");
        assertThat(all.getString("nextCursor")).isNull();
        List<String> ids = all.getList("items.id");
        assertThat(ids).contains(first, second);
        assertThat(ids.indexOf(second)).isLessThan(ids.indexOf(first));

        JsonPath one = as(Keys.ALICE).queryParam("limit", 1).when().get("/api/sessions")
                .then().statusCode(200).extract().jsonPath();
        assertThat(one.getList("items")).hasSize(1);
        String cursor = one.getString("nextCursor");
        assertThat(cursor).isNotBlank();
        JsonPath next = as(Keys.ALICE).queryParam("limit", 1).queryParam("cursor", cursor).when().get("/api/sessions")
                .then().statusCode(200).extract().jsonPath();
        assertThat(next.getList("items.id")).hasSize(1).doesNotContainAnyElementsOf(one.getList("items.id"));
        assertThat(next.getString("items[0].id")).isEqualTo(ids.get(1));
    }

    @Test
    void getOnePatchArchiveAndDeleteASession() {
        String id = create(Keys.ALICE, "rest-crud");

        as(Keys.BOB).when().get("/api/sessions/" + id).then().statusCode(200).contentType("application/json")
                .body("id", equalTo(id)).body("title", equalTo("rest-crud")).body("ownerId", equalTo("alice"));

        as(Keys.ALICE).contentType("application/json").body(Map.of("title", "rest-renamed"))
                .when().patch("/api/sessions/" + id)
                .then().statusCode(200).body("id", equalTo(id)).body("title", equalTo("rest-renamed"));
        as(Keys.ALICE).when().get("/api/sessions/" + id).then().body("title", equalTo("rest-renamed"));

        as(Keys.ALICE).when().post("/api/sessions/" + id + "/archive")
                .then().statusCode(200).body("id", equalTo(id)).body("status", equalTo("archived"));
        List<String> archived = as(Keys.ALICE).queryParam("status", "archived").queryParam("limit", 200)
                .when().get("/api/sessions").then().statusCode(200).extract().path("items.id");
        assertThat(archived).contains(id);

        as(Keys.BOB).when().delete("/api/sessions/" + id).then().statusCode(403).body("code", equalTo("forbidden"));
        as(Keys.ALICE).when().delete("/api/sessions/" + id).then().statusCode(204);
        as(Keys.ALICE).when().get("/api/sessions/" + id)
                .then().statusCode(404).contentType("application/json").body("code", equalTo("not_found"))
                .body("message", containsString(id));
        as(Keys.ALICE).when().delete("/api/sessions/" + id).then().statusCode(404).body("code", equalTo("not_found"));
    }

    @Test
    void archivedSessionsRefuseMessagesAfterARestArchive() {
        String id = create(Keys.ALICE, "rest-archived");
        as(Keys.ALICE).when().post("/api/sessions/" + id + "/archive").then().statusCode(200);
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            assertThat(alice.request("send_message", "sessionId", id, "text", "hi").path("code").asText())
                    .isEqualTo("conflict");
        }
    }

    @Test
    void eventsMatchWhatAWebSocketSubscriberSaw() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String id = alice.createSession("rest-events");
            assertThat(alice.request("subscribe", "sessionId", id, "afterSeq", 0).path("type").asText())
                    .isEqualTo("subscribed");
            assertThat(alice.request("send_message", "sessionId", id, "text", "/sim tokens=5").path("type").asText())
                    .isEqualTo("message_accepted");
            List<JsonNode> seen = alice.eventsUntilTurnEnds(id);
            assertThat(seen.get(seen.size() - 1).path("kind").asText()).isEqualTo("turn_completed");
            assertThat(seen.stream().filter(e -> "text_delta".equals(e.path("kind").asText()))).hasSize(5);
            int n = seen.size();
            List<Long> seenSeqs = new ArrayList<>();
            List<String> seenKinds = new ArrayList<>();
            for (JsonNode e : seen) {
                seenSeqs.add(e.path("seq").asLong());
                seenKinds.add(e.path("kind").asText());
            }
            List<Long> oneToN = new ArrayList<>();
            for (long i = 1; i <= n; i++) {
                oneToN.add(i);
            }
            assertThat(seenSeqs).isEqualTo(oneToN);

            JsonPath page = as(Keys.ALICE).when().get("/api/sessions/" + id + "/events")
                    .then().statusCode(200).contentType("application/json").extract().jsonPath();
            assertThat(page.getString("sessionId")).isEqualTo(id);
            assertThat(page.getLong("lastSeq")).isEqualTo(n);
            assertThat(page.getList("events.seq", Long.class)).isEqualTo(seenSeqs);
            assertThat(page.getList("events.kind", String.class)).isEqualTo(seenKinds);
            assertThat(page.getList("events.type", String.class)).containsOnly("event");
            assertThat(page.getList("events.sessionId", String.class)).containsOnly(id);
            assertThat(page.getList("events.turnId", String.class)).containsOnly(seen.get(0).path("turnId").asText());
            assertThat(page.getString("events[0].data.text")).isEqualTo("/sim tokens=5");

            JsonPath window = as(Keys.ALICE).queryParam("afterSeq", 2).queryParam("limit", 3)
                    .when().get("/api/sessions/" + id + "/events").then().statusCode(200).extract().jsonPath();
            assertThat(window.getList("events.seq", Long.class)).containsExactly(3L, 4L, 5L);
            assertThat(window.getList("events.kind", String.class)).isEqualTo(seenKinds.subList(2, 5));
            assertThat(window.getLong("lastSeq")).isEqualTo(n);

            JsonPath end = as(Keys.ALICE).queryParam("afterSeq", n).when().get("/api/sessions/" + id + "/events")
                    .then().statusCode(200).extract().jsonPath();
            assertThat(end.getList("events")).isEmpty();
            assertThat(end.getLong("lastSeq")).isEqualTo(n);
        }
    }

    @Test
    void missingOrInvalidBearerIs401Unauthorized() {
        given().when().get("/api/sessions").then().statusCode(401).contentType("application/json")
                .body("code", equalTo("unauthorized")).body("message", notNullValue());
        given().header("Authorization", "Basic YWxpY2U6cHc=").when().get("/api/sessions")
                .then().statusCode(401).body("code", equalTo("unauthorized"));
        as("not-a-key").when().get("/api/sessions").then().statusCode(401).body("code", equalTo("unauthorized"));
        as("not-a-key").contentType("application/json").body("{}").when().post("/api/sessions")
                .then().statusCode(401).body("code", equalTo("unauthorized"));
        given().when().delete("/api/sessions/" + UUID.randomUUID()).then().statusCode(401)
                .body("code", equalTo("unauthorized"));
    }

    @Test
    void aReadOnlyKeyMayReadButNotCreate() {
        as(Keys.READER).contentType("application/json").body(Map.of("title", "nope"))
                .when().post("/api/sessions").then().statusCode(403).contentType("application/json")
                .body("code", equalTo("forbidden"));
        String id = create(Keys.ALICE, "rest-reader");
        as(Keys.READER).when().get("/api/sessions/" + id).then().statusCode(200).body("id", equalTo(id));
        as(Keys.READER).contentType("application/json").body(Map.of("title", "nope"))
                .when().patch("/api/sessions/" + id).then().statusCode(403).body("code", equalTo("forbidden"));
        as(Keys.READER).when().delete("/api/sessions/" + id).then().statusCode(403).body("code", equalTo("forbidden"));
    }

    @Test
    void invalidRequestsAreRefusedWithTheirCodeAndChangeNothing() {
        as(Keys.ALICE).contentType("application/json").body("{\"title\": ")
                .when().post("/api/sessions").then().statusCode(400).contentType("application/json")
                .body("code", equalTo("bad_request"));
        as(Keys.ALICE).contentType("application/json").body("[1,2]")
                .when().post("/api/sessions").then().statusCode(400).body("code", equalTo("bad_request"));
        as(Keys.ALICE).contentType("application/json").body(Map.of("title", 42))
                .when().post("/api/sessions").then().statusCode(400).body("code", equalTo("bad_request"))
                .body("message", containsString("title"));
        as(Keys.ALICE).contentType("application/json").body(Map.of("title", "x".repeat(201)))
                .when().post("/api/sessions").then().statusCode(413).body("code", equalTo("too_large"))
                .body("message", containsString("title"));
        as(Keys.ALICE).contentType("application/json").body(Map.of("title", "x".repeat(200)))
                .when().post("/api/sessions").then().statusCode(201).body("title", equalTo("x".repeat(200)));

        as(Keys.ALICE).queryParam("limit", "abc").when().get("/api/sessions")
                .then().statusCode(400).body("code", equalTo("bad_request")).body("message", containsString("limit"));
        as(Keys.ALICE).queryParam("limit", 0).when().get("/api/sessions")
                .then().statusCode(400).body("code", equalTo("bad_request")).body("message", containsString("limit"));
        as(Keys.ALICE).queryParam("status", "sleeping").when().get("/api/sessions")
                .then().statusCode(400).body("code", equalTo("bad_request")).body("message", containsString("status"));
        as(Keys.ALICE).queryParam("cursor", "garbage!").when().get("/api/sessions")
                .then().statusCode(400).body("code", equalTo("bad_request")).body("message", containsString("cursor"));

        String id = create(Keys.ALICE, "rest-invalid");
        as(Keys.ALICE).queryParam("afterSeq", "abc").when().get("/api/sessions/" + id + "/events")
                .then().statusCode(400).body("code", equalTo("bad_request")).body("message", containsString("afterSeq"));
        as(Keys.ALICE).queryParam("limit", "abc").when().get("/api/sessions/" + id + "/events")
                .then().statusCode(400).body("code", equalTo("bad_request")).body("message", containsString("limit"));
        as(Keys.ALICE).contentType("application/json").body("{}")
                .when().patch("/api/sessions/" + id).then().statusCode(400).body("code", equalTo("bad_request"))
                .body("message", containsString("title"));
        as(Keys.ALICE).when().get("/api/sessions/" + id).then().statusCode(200).body("title", equalTo("rest-invalid"));
    }

    @Test
    void restChangesEmitTenantEventsToTheTenantsWebSockets() {
        try (WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
            String title = "rest-event-" + UUID.randomUUID();
            String id = create(Keys.ALICE, title);
            JsonNode e = bob.await(n -> "tenant_event".equals(n.path("type").asText())
                    && "session_created".equals(n.path("event").asText()) && id.equals(n.path("session").path("id").asText()));
            assertThat(e.path("session").path("title").asText()).isEqualTo(title);
            assertThat(e.path("session").path("ownerId").asText()).isEqualTo("alice");

            as(Keys.ALICE).contentType("application/json").body(Map.of("title", title + "-renamed"))
                    .when().patch("/api/sessions/" + id).then().statusCode(200);
            JsonNode updated = bob.await(n -> "tenant_event".equals(n.path("type").asText())
                    && "session_updated".equals(n.path("event").asText()));
            assertThat(updated.path("session").path("id").asText()).isEqualTo(id);
            assertThat(updated.path("session").path("title").asText()).isEqualTo(title + "-renamed");

            as(Keys.ALICE).when().post("/api/sessions/" + id + "/archive").then().statusCode(200);
            JsonNode archived = bob.await(n -> "tenant_event".equals(n.path("type").asText())
                    && "session_archived".equals(n.path("event").asText()));
            assertThat(archived.path("session").path("id").asText()).isEqualTo(id);
            assertThat(archived.path("session").path("status").asText()).isEqualTo("archived");

            as(Keys.ALICE).when().delete("/api/sessions/" + id).then().statusCode(204);
            JsonNode deleted = bob.await(n -> "tenant_event".equals(n.path("type").asText())
                    && "session_deleted".equals(n.path("event").asText()));
            assertThat(deleted.path("sessionId").asText()).isEqualTo(id);
        }
    }
}

package io.diminuendo.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.UUID;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.Keys;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/** {@code tenant_event}s reach every connection of the tenant, the acting one included, and no other tenant. */
@QuarkusTest
class TenantEventsTest {

    @TestHTTPResource("/ws")
    URI ws;

    private static Predicate<JsonNode> tenantEvent(String event, String sessionId) {
        return n -> "tenant_event".equals(n.path("type").asText()) && event.equals(n.path("event").asText())
                && (sessionId.equals(n.path("session").path("id").asText())
                        || sessionId.equals(n.path("sessionId").asText()));
    }

    private static Predicate<JsonNode> anyTenantEvent() {
        return n -> "tenant_event".equals(n.path("type").asText());
    }

    @Test
    void everyConnectionOfTheTenantHearsAboutCreateUpdateArchiveAndDelete() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
            String title = "events-" + UUID.randomUUID();
            JsonNode created = alice.request("create_session", "title", title).path("session");
            String id = created.path("id").asText();

            for (WsClient c : new WsClient[] { alice, bob }) {
                JsonNode e = c.await(tenantEvent("session_created", id));
                assertThat(e.path("session")).isEqualTo(created);
                assertThat(e.has("id")).as("a tenant event is not a reply").isFalse();
            }

            JsonNode updated = alice.request("update_session", "sessionId", id, "title", title + "-renamed").path("session");
            for (WsClient c : new WsClient[] { alice, bob }) {
                JsonNode e = c.await(tenantEvent("session_updated", id));
                assertThat(e.path("session").path("title").asText()).isEqualTo(title + "-renamed");
                assertThat(e.path("session")).isEqualTo(updated);
            }

            alice.request("archive_session", "sessionId", id);
            for (WsClient c : new WsClient[] { alice, bob }) {
                JsonNode e = c.await(tenantEvent("session_archived", id));
                assertThat(e.path("session").path("id").asText()).isEqualTo(id);
                assertThat(e.path("session").path("status").asText()).isEqualTo("archived");
                assertThat(e.path("session").path("tenantId").asText()).isEqualTo("acme");
            }

            assertThat(alice.request("delete_session", "sessionId", id).path("type").asText()).isEqualTo("session_deleted");
            for (WsClient c : new WsClient[] { alice, bob }) {
                JsonNode e = c.await(tenantEvent("session_deleted", id));
                assertThat(e.path("sessionId").asText()).isEqualTo(id);
                assertThat(e.has("session")).isFalse();
            }
        }
    }

    @Test
    void changesMadeByAnotherUserReachTheSessionOwnerToo() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
            String id = alice.createSession("owner-" + UUID.randomUUID());
            JsonNode reply = bob.request("update_session", "sessionId", id, "title", "bob was here");
            assertThat(reply.path("type").asText()).isEqualTo("session_updated");

            JsonNode e = alice.await(tenantEvent("session_updated", id));
            assertThat(e.path("session").path("title").asText()).isEqualTo("bob was here");
            assertThat(e.path("session").path("ownerId").asText()).isEqualTo("alice");
        }
    }

    @Test
    void anotherTenantHearsNothingAboutTheseChanges() {
        try (WsClient eve = WsClient.authenticated(ws, Keys.EVE);
                WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String id = alice.createSession("secret-" + UUID.randomUUID());
            alice.request("update_session", "sessionId", id, "title", "still secret");
            alice.request("archive_session", "sessionId", id);
            alice.request("delete_session", "sessionId", id);
            // alice has seen all four; they were published before eve acts below
            alice.await(tenantEvent("session_deleted", id));
            alice.drain();

            String evesOwn = eve.createSession("eve-" + UUID.randomUUID());
            JsonNode first = eve.await(anyTenantEvent());
            assertThat(first.path("event").asText()).isEqualTo("session_created");
            assertThat(first.path("session").path("id").asText()).isEqualTo(evesOwn);
            assertThat(first.path("session").path("tenantId").asText()).isEqualTo("globex");
            assertThat(eve.drain()).noneMatch(n -> n.toString().contains(id));

            // and alice in turn does not hear about eve's session
            String marker = alice.createSession("marker-" + UUID.randomUUID());
            JsonNode next = alice.await(anyTenantEvent());
            assertThat(next.path("session").path("id").asText()).isEqualTo(marker);
        }
    }
}

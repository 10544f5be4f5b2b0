package io.diminuendo.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.Keys;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/** Session create/read/update/archive/delete and listing over the WebSocket (docs/protocol.md, "Sessions"). */
@QuarkusTest
class SessionCrudTest {

    @TestHTTPResource("/ws")
    URI ws;

    private static String unique(String what) {
        return what + "-" + UUID.randomUUID();
    }

    private static void awaitClockPast(long millis) {
        await().until(() -> System.currentTimeMillis() > millis);
    }

    private static List<String> ids(JsonNode items) {
        List<String> out = new ArrayList<>();
        items.forEach(n -> out.add(n.path("id").asText()));
        return out;
    }

    @Test
    void createReturnsTheCompleteSessionObject() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            long before = System.currentTimeMillis();
            String title = unique("create");
            JsonNode reply = alice.request("create_session", "title", title);
            long after = System.currentTimeMillis();

            assertThat(reply.path("type").asText()).isEqualTo("session_created");
            JsonNode s = reply.path("session");
            assertThat(UUID.fromString(s.path("id").asText()).toString()).isEqualTo(s.path("id").asText());
            assertThat(s.path("tenantId").asText()).isEqualTo("acme");
            assertThat(s.path("ownerId").asText()).isEqualTo("alice");
            assertThat(s.path("title").asText()).isEqualTo(title);
            assertThat(s.path("status").asText()).isEqualTo("idle");
            assertThat(s.path("createdAt").isIntegralNumber()).isTrue();
            assertThat(s.path("createdAt").asLong()).isBetween(before, after);
            assertThat(s.path("updatedAt").asLong()).isEqualTo(s.path("createdAt").asLong());
            assertThat(s.path("lastSeq").isIntegralNumber()).isTrue();
            assertThat(s.path("lastSeq").asLong()).isZero();
            assertThat(s.path("epoch").isTextual()).isTrue();
            assertThat(s.path("epoch").asText()).isNotBlank();
        }
    }

    @Test
    void aCreatedSessionIsVisibleToGetSessionAndListSessions() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            JsonNode created = alice.request("create_session", "title", unique("visible")).path("session");
            String id = created.path("id").asText();

            JsonNode got = alice.request("get_session", "sessionId", id);
            assertThat(got.path("type").asText()).isEqualTo("session");
            assertThat(got.path("session")).isEqualTo(created);

            JsonNode list = alice.request("list_sessions", "limit", 200);
            assertThat(list.path("type").asText()).isEqualTo("sessions");
            List<JsonNode> listed = new ArrayList<>();
            list.path("items").forEach(n -> {
                if (id.equals(n.path("id").asText())) {
                    listed.add(n);
                }
            });
            assertThat(listed).containsExactly(created);
        }
    }

    @Test
    void updateSessionChangesTheTitleAndBumpsUpdatedAt() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            JsonNode created = alice.request("create_session", "title", "before").path("session");
            String id = created.path("id").asText();
            awaitClockPast(created.path("updatedAt").asLong());

            JsonNode reply = alice.request("update_session", "sessionId", id, "title", "after");
            assertThat(reply.path("type").asText()).isEqualTo("session_updated");
            JsonNode updated = reply.path("session");
            assertThat(updated.path("id").asText()).isEqualTo(id);
            assertThat(updated.path("title").asText()).isEqualTo("after");
            assertThat(updated.path("createdAt").asLong()).isEqualTo(created.path("createdAt").asLong());
            assertThat(updated.path("updatedAt").asLong()).isGreaterThan(created.path("updatedAt").asLong());

            JsonNode got = alice.request("get_session", "sessionId", id).path("session");
            assertThat(got.path("title").asText()).isEqualTo("after");
            assertThat(got.path("updatedAt").asLong()).isEqualTo(updated.path("updatedAt").asLong());
        }
    }

    @Test
    void anArchivedSessionRefusesNewMessagesWithConflict() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String id = alice.createSession(unique("archive"));

            JsonNode reply = alice.request("archive_session", "sessionId", id);
            assertThat(reply.path("type").asText()).isEqualTo("session_archived");
            assertThat(reply.path("session").path("status").asText()).isEqualTo("archived");
            assertThat(alice.request("get_session", "sessionId", id).path("session").path("status").asText())
                    .isEqualTo("archived");

            JsonNode send = alice.request("send_message", "sessionId", id, "text", "hello");
            assertThat(send.path("type").asText()).isEqualTo("error");
            assertThat(send.path("code").asText()).isEqualTo("conflict");
            assertThat(alice.request("get_session", "sessionId", id).path("session").path("lastSeq").asLong()).isZero();
        }
    }

    @Test
    void theOwnerDeletesASessionAndItIsThenNotFound() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String id = alice.createSession(unique("delete"));

            JsonNode reply = alice.request("delete_session", "sessionId", id);
            assertThat(reply.path("type").asText()).isEqualTo("session_deleted");
            assertThat(reply.path("sessionId").asText()).isEqualTo(id);

            JsonNode got = alice.request("get_session", "sessionId", id);
            assertThat(got.path("type").asText()).isEqualTo("error");
            assertThat(got.path("code").asText()).isEqualTo("not_found");
            assertThat(ids(alice.request("list_sessions", "limit", 200).path("items"))).doesNotContain(id);
            assertThat(alice.request("delete_session", "sessionId", id).path("code").asText()).isEqualTo("not_found");
        }
    }

    @Test
    void anotherNonAdminUserOfTheTenantMayNotDeleteTheSession() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
            String id = alice.createSession(unique("not-bobs"));

            JsonNode reply = bob.request("delete_session", "sessionId", id);
            assertThat(reply.path("type").asText()).isEqualTo("error");
            assertThat(reply.path("code").asText()).isEqualTo("forbidden");

            JsonNode still = alice.request("get_session", "sessionId", id);
            assertThat(still.path("type").asText()).isEqualTo("session");
            assertThat(still.path("session").path("id").asText()).isEqualTo(id);
        }
    }

    @Test
    void anAdminMayDeleteAnotherUsersSession() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient root = WsClient.authenticated(ws, Keys.ROOT)) {
            String id = alice.createSession(unique("root-deletes"));

            JsonNode reply = root.request("delete_session", "sessionId", id);
            assertThat(reply.path("type").asText()).isEqualTo("session_deleted");
            assertThat(reply.path("sessionId").asText()).isEqualTo(id);
            assertThat(alice.request("get_session", "sessionId", id).path("code").asText()).isEqualTo("not_found");
        }
    }

    @Test
    void aReadOnlyUserMayListAndGetButNotCreateUpdateOrSend() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient reader = WsClient.authenticated(ws, Keys.READER)) {
            String title = unique("read-only");
            String id = alice.createSession(title);

            JsonNode create = reader.request("create_session", "title", "nope");
            assertThat(create.path("type").asText()).isEqualTo("error");
            assertThat(create.path("code").asText()).isEqualTo("forbidden");

            JsonNode update = reader.request("update_session", "sessionId", id, "title", "nope");
            assertThat(update.path("code").asText()).isEqualTo("forbidden");

            JsonNode send = reader.request("send_message", "sessionId", id, "text", "hello");
            assertThat(send.path("code").asText()).isEqualTo("forbidden");

            JsonNode archive = reader.request("archive_session", "sessionId", id);
            assertThat(archive.path("code").asText()).isEqualTo("forbidden");

            JsonNode got = reader.request("get_session", "sessionId", id);
            assertThat(got.path("type").asText()).isEqualTo("session");
            assertThat(got.path("session").path("title").asText()).isEqualTo(title);
            assertThat(got.path("session").path("status").asText()).isEqualTo("idle");
            assertThat(got.path("session").path("lastSeq").asLong()).isZero();

            JsonNode list = reader.request("list_sessions", "limit", 200);
            assertThat(list.path("type").asText()).isEqualTo("sessions");
            assertThat(ids(list.path("items"))).contains(id);
        }
    }

    @Test
    void listSessionsIsNewestFirst() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String prefix = unique("order");
            awaitClockPast(System.currentTimeMillis());
            List<String> created = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                JsonNode s = alice.request("create_session", "title", prefix + "-" + i).path("session");
                created.add(s.path("id").asText());
                awaitClockPast(s.path("createdAt").asLong());
            }

            JsonNode items = alice.request("list_sessions", "limit", 3).path("items");
            assertThat(ids(items)).containsExactly(created.get(2), created.get(1), created.get(0));

            JsonNode all = alice.request("list_sessions", "limit", 200).path("items");
            long previous = Long.MAX_VALUE;
            for (JsonNode s : all) {
                assertThat(s.path("createdAt").asLong()).isLessThanOrEqualTo(previous);
                previous = s.path("createdAt").asLong();
            }
        }
    }

    @Test
    void paginationWalksEveryPageWithoutDuplicatesAndEndsWithANullCursor() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            List<String> mine = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                mine.add(alice.createSession(unique("page")));
            }
            JsonNode single = alice.request("list_sessions", "limit", 200);
            assertThat(single.path("nextCursor").isNull())
                    .as("this test expects fewer than 200 acme sessions in one run").isTrue();
            List<String> expected = ids(single.path("items"));

            List<String> walked = new ArrayList<>();
            Set<String> cursors = new HashSet<>();
            JsonNode page = alice.request("list_sessions", "limit", 2);
            int pages = 1;
            while (true) {
                assertThat(page.path("type").asText()).isEqualTo("sessions");
                assertThat(page.has("nextCursor")).isTrue();
                assertThat(page.path("items").size()).isBetween(1, 2);
                walked.addAll(ids(page.path("items")));
                JsonNode next = page.path("nextCursor");
                if (next.isNull()) {
                    break;
                }
                assertThat(page.path("items").size()).isEqualTo(2);
                assertThat(cursors.add(next.asText())).isTrue();
                page = alice.request("list_sessions", "limit", 2, "cursor", next.asText());
                pages++;
                assertThat(pages).isLessThanOrEqualTo(101);
            }

            assertThat(walked).doesNotHaveDuplicates();
            assertThat(walked).containsExactlyElementsOf(expected);
            assertThat(walked).containsAll(mine);
            assertThat(pages).isEqualTo((expected.size() + 1) / 2);
        }
    }

    @Test
    void statusFilterReturnsOnlyArchivedSessions() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String archived = alice.createSession(unique("filter-archived"));
            String idle = alice.createSession(unique("filter-idle"));
            assertThat(alice.request("archive_session", "sessionId", archived).path("type").asText())
                    .isEqualTo("session_archived");

            JsonNode list = alice.request("list_sessions", "status", "archived", "limit", 200);
            assertThat(list.path("type").asText()).isEqualTo("sessions");
            assertThat(ids(list.path("items"))).contains(archived).doesNotContain(idle);
            list.path("items").forEach(s -> assertThat(s.path("status").asText()).isEqualTo("archived"));

            JsonNode unfiltered = alice.request("list_sessions", "limit", 200);
            assertThat(ids(unfiltered.path("items"))).contains(archived, idle);
        }
    }

    @Test
    void anInvalidCursorIsABadRequestAndTheConnectionStaysUsable() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            for (String cursor : List.of("not a cursor!", "Z2FyYmFnZQ")) {
                JsonNode reply = alice.request("list_sessions", "cursor", cursor);
                assertThat(reply.path("type").asText()).isEqualTo("error");
                assertThat(reply.path("code").asText()).isEqualTo("bad_request");
                assertThat(reply.path("message").asText()).contains("cursor");
            }
            assertThat(alice.request("list_sessions", "limit", 1).path("type").asText()).isEqualTo("sessions");
        }
    }
}

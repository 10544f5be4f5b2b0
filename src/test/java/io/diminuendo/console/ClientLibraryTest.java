package io.diminuendo.console;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.connection.ConnectionRegistry;
import io.diminuendo.support.Keys;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * diminuendo-client.js over the wire in Node.js (the {@code ws} package), loaded from the gateway as a browser gets
 * it (docs/client.md): requests and their errors, resuming after the server drops the socket mid-turn with no gap or
 * duplicate, re-authentication on the same socket and after expiry, a refused token.
 */
@QuarkusTest
class ClientLibraryTest {
    @TestHTTPResource("/")
    URI base;

    @Inject
    ConnectionRegistry connections;

    @BeforeAll
    static void installed() {
        ConsoleScripts.CLIENT.requireInstalled("ws", ConsoleScripts.INSTALLER);
    }

    private JsonNode scenario(String name, Object... kv) {
        return ConsoleScripts.CLIENT.run(name, ConsoleScripts.args(Map.of("base", base.toString().replaceAll("/$", "")),
                kv), 120, ConsoleScripts.dropHook(connections));
    }

    static String expectedText(int tokens) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < tokens; i++) {
            text.append("tok").append(i).append(' ');
        }
        return text.toString();
    }

    static List<Long> seqs(JsonNode result) {
        List<Long> out = new ArrayList<>();
        result.path("seqs").forEach(s -> out.add(s.asLong()));
        return out;
    }

    /** Every seq from 1 to the last, once each and in order. */
    static void assertContiguousFromOne(JsonNode result) {
        List<Long> seqs = seqs(result);
        assertThat(seqs).as("seqs handed to onEvent").isNotEmpty()
                .containsExactlyElementsOf(IntStream.rangeClosed(1, seqs.size()).mapToObj(i -> (long) i).toList());
    }

    @Test
    void aServerDropMidTurnResumesAfterTheLastSeqWithNoGapAndNoDuplicate() {
        int tokens = 400;
        JsonNode r = scenario("resume", "key", Keys.ALICE, "tokens", tokens, "delayMs", 5);

        assertThat(r.path("dropped").path("closed").asInt()).as("connections the server closed").isPositive();
        assertThat(r.path("sameConnection").asBoolean()).isFalse();
        assertThat(r.path("reconnects").asInt()).isGreaterThanOrEqualTo(1);
        assertThat(r.path("states").toString()).contains("reconnecting");
        assertThat(r.path("pingWhileReconnecting").asLong()).as("a request made while reconnecting is answered")
                .isPositive();
        // seqs from the subscription's first live event to the turn's end, each once
        List<Long> seqs = seqs(r);
        assertThat(seqs.get(0)).isEqualTo(1L);
        assertContiguousFromOne(r);
        assertThat(seqs.get(seqs.size() - 1)).as("the drop came mid-turn").isGreaterThan(r.path("seqAtDrop").asLong() + 10);
        assertThat(r.path("text").asText()).isEqualTo(expectedText(tokens));
        assertThat(r.path("terminal").path("kind").asText()).isEqualTo("turn_completed");
        // and it is the stream the gateway stored
        long stored = given().header("Authorization", "Bearer " + Keys.ALICE)
                .get("/api/sessions/" + r.path("sessionId").asText()).then().statusCode(200).extract().jsonPath()
                .getLong("lastSeq");
        assertThat(seqs.get(seqs.size() - 1)).isEqualTo(stored).isEqualTo(r.path("lastSeq").asLong());
    }

    @Test
    void aTokenRefreshedBeforeExpiryKeepsTheConnectionAndAnExpiredOneIsReplacedOnReconnect() {
        int tokens = 300;
        JsonNode r = scenario("reauth", "secret", Keys.HS256_SECRET, "tokens", tokens);

        JsonNode kept = r.path("kept");
        // tokens live 2 s and are refreshed 1 s before expiry: several refreshes in 9 s, all on one socket
        assertThat(kept.path("minted").asInt()).isGreaterThanOrEqualTo(4);
        assertThat(kept.path("sameConnection").asBoolean()).isTrue();
        assertThat(kept.path("reconnects").asInt()).isZero();
        assertThat(kept.path("states").toString()).doesNotContain("reconnecting");
        assertThat(kept.path("ping").asLong()).isPositive();

        JsonNode lapsed = r.path("lapsed");
        assertThat(lapsed.path("closes").get(0).path("code").asInt()).as("closed for the expired token").isEqualTo(4401);
        assertThat(lapsed.path("reconnects").asInt()).isGreaterThanOrEqualTo(1);
        assertThat(lapsed.path("fetched").asInt()).as("a fresh token for each connection").isGreaterThanOrEqualTo(2);
        assertContiguousFromOne(lapsed);
        assertThat(lapsed.path("text").asText()).isEqualTo(expectedText(tokens));
    }

    @Test
    void aRefusedTokenFailsOnceWithUnauthorizedAndDoesNotRetry() {
        JsonNode r = scenario("badToken");
        assertThat(r.path("refusal").path("code").asText()).isEqualTo("unauthorized");
        assertThat(r.path("refusal").path("name").asText()).isEqualTo("DiminuendoError");
        assertThat(r.path("refusal").path("message").asText()).isNotBlank();
        List<String> states = new ArrayList<>();
        r.path("states").forEach(s -> states.add(s.asText()));
        assertThat(states).containsExactly("connecting", "closed");
        assertThat(r.path("afterClose").asText()).isEqualTo("closed");
    }

    @Test
    void requestsResolveWithTheirRepliesAndRejectWithTheGatewaysCodes() {
        JsonNode r = scenario("requests", "key", Keys.ALICE, "otherTenantKey", Keys.EVE);
        String id = r.path("created").path("id").asText();
        assertThat(r.path("created").path("title").asText()).isEqualTo("first");
        assertThat(r.path("created").path("metadata").path("a").asInt()).isEqualTo(1);
        assertThat(r.path("renamed").asText()).isEqualTo("renamed");
        assertThat(r.path("got").asText()).isEqualTo("renamed");
        assertThat(r.path("listed").toString()).contains(id);
        assertThat(r.path("accepted").path("turnId").asText()).isNotBlank();
        assertThat(r.path("again").path("code").asText()).as("a second decision").isEqualTo("conflict");
        assertThat(r.path("again").path("isError").asBoolean()).isTrue();
        List<String> kinds = new ArrayList<>();
        r.path("kinds").forEach(k -> kinds.add(k.asText()));
        assertThat(kinds).containsSubsequence("user_message", "turn_started", "permission_request", "permission_resolved",
                "tool_result", "turn_completed");
        assertThat(r.path("historyLastSeq").asLong()).isEqualTo(r.path("historySeqs").size());
        assertThat(r.path("archived").asText()).isEqualTo("archived");
        assertThat(r.path("archivedSend").asText()).isEqualTo("conflict");
        assertThat(r.path("foreign").asText()).as("another tenant's session").isEqualTo("not_found");
        assertThat(r.path("deletedNotice").asText()).isEqualTo("session_deleted");
        assertThat(r.path("tenant").toString()).contains("session_created", "session_updated", "session_archived",
                "session_deleted");
    }
}

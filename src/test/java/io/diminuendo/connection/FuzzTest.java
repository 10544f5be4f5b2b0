package io.diminuendo.connection;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.Keys;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * Thousands of generated hostile frames from another tenant's connection: malformed, truncated, oversized,
 * deeply nested, wrongly typed, out of order, and well-formed requests aimed at a session of another tenant.
 * Afterwards the gateway still serves, every reply was an error (or a pong), nothing leaked, nothing changed.
 */
@QuarkusTest
@TestProfile(FuzzTest.Unthrottled.class)
class FuzzTest {
    static final int FRAMES = 4000;

    public static class Unthrottled implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("diminuendo.limits.frames-per-second", "1000000", "diminuendo.limits.frame-burst", "1000000");
        }
    }

    @TestHTTPResource("/ws")
    URI ws;

    private static final String[] TYPES = {"authenticate", "create_session", "list_sessions", "get_session",
            "update_session", "archive_session", "delete_session", "subscribe", "unsubscribe", "history",
            "send_message", "cancel_turn", "permission_decision", "ping", "event", "error", "", "SUBSCRIBE", "nope"};

    /**
     * One hostile frame; {@code victim} is a session id of another tenant. Well-formed frames always aim at the
     * victim or at sessions that do not exist (a well-formed create_session would be a legitimate request).
     */
    static String hostileFrame(Random r, String victim) {
        String picked = TYPES[r.nextInt(TYPES.length)];
        String type = "create_session".equals(picked) ? "get_session" : picked;
        return switch (r.nextInt(12)) {
            case 0 -> "{\"type\":\"" + type + "\",\"sessionId\":\"" + victim + "\",\"text\":\"x\",\"title\":\"pwned\","
                    + "\"requestId\":\"r\",\"decision\":\"allow\",\"afterSeq\":0}";
            case 1 -> {
                String valid = "{\"type\":\"" + type + "\",\"sessionId\":\"" + victim + "\",\"title\":\"t\"}";
                yield valid.substring(0, r.nextInt(valid.length()));
            }
            case 2 -> "[".repeat(1 + r.nextInt(5000)) + "]".repeat(r.nextInt(3));
            case 3 -> "{\"type\":\"subscribe\",\"sessionId\":" + "{\"a\":".repeat(1 + r.nextInt(2000)) + "1"
                    + "}".repeat(r.nextInt(2000)) + "}";
            case 4 -> "{\"type\":" + List.of("1", "true", "null", "[]", "{}", "\"\\u0000\"", "1e999").get(r.nextInt(7)) + "}";
            case 5 -> "{\"type\":\"" + type + "\",\"sessionId\":" + List.of("1", "true", "[]", "{}", "null", "-1").get(r.nextInt(6))
                    + ",\"afterSeq\":\"" + r.nextInt() + "\",\"limit\":" + (r.nextBoolean() ? "1e308" : "-5") + "}";
            case 6 -> "{\"type\":\"create_session\",\"title\":" + List.of("5", "[\"a\"]", "{}", "true").get(r.nextInt(4)) + "}";
            case 7 -> "{\"type\":\"create_session\",\"title\":\"" + "x".repeat(201 + r.nextInt(500)) + "\"}";
            case 8 -> "{\"type\":\"send_message\",\"sessionId\":\"" + victim + "\",\"text\":\"" + "y".repeat(70_000) + "\"}";
            case 9 -> {
                byte[] junk = new byte[1 + r.nextInt(64)];
                r.nextBytes(junk);
                yield new String(junk, java.nio.charset.StandardCharsets.ISO_8859_1);
            }
            case 10 -> "{\"type\":\"" + type + "\",\"id\":" + List.of("{}", "[]", "1.5", "\"" + "i".repeat(65) + "\"", "true")
                    .get(r.nextInt(5)) + ",\"sessionId\":\"" + victim + "\"}";
            default -> "{\"type\":\"" + type + "\",\"sessionId\":\"" + java.util.UUID.randomUUID()
                    + "\",\"requestId\":\"x\",\"decision\":\"deny\",\"text\":\"hi\"}";
        };
    }

    @Test
    void hostileFramesChangeNothingLeakNothingAndTheGatewayKeepsServing() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE); WsClient eve = WsClient.authenticated(ws, Keys.EVE)) {
            String victim = alice.createSession("victim of fuzzing");
            alice.request("subscribe", "sessionId", victim);
            alice.request("send_message", "sessionId", victim, "text", "/sim tokens=5");
            alice.eventsUntilTurnEnds(victim);
            JsonNode before = alice.request("get_session", "sessionId", victim).path("session");
            JsonNode historyBefore = alice.request("history", "sessionId", victim).path("events");
            int eveSessionsBefore = eve.request("list_sessions").path("items").size();

            Random r = new Random(20261126L);
            for (int i = 0; i < FRAMES; i++) {
                eve.send(hostileFrame(r, victim));
            }
            JsonNode pong = eve.request("ping");
            assertThat(pong.path("type").asText()).isEqualTo("pong");

            List<JsonNode> replies = new ArrayList<>(eve.drain());
            Set<String> allowed = Set.of("error", "pong", "sessions");
            for (JsonNode reply : replies) {
                assertThat(reply.path("type").asText()).as(reply.toString()).isIn(allowed);
                assertThat(reply.toString()).doesNotContain("victim of fuzzing");
                if ("sessions".equals(reply.path("type").asText())) {
                    reply.path("items").forEach(s -> assertThat(s.path("tenantId").asText()).isEqualTo("globex"));
                }
            }
            assertThat(replies.stream().filter(n -> "error".equals(n.path("type").asText())).count())
                    .as("hostile frames are answered with errors").isGreaterThan(FRAMES / 2);

            assertThat(alice.request("get_session", "sessionId", victim).path("session")).isEqualTo(before);
            assertThat(alice.request("history", "sessionId", victim).path("events")).isEqualTo(historyBefore);
            assertThat(eve.request("list_sessions").path("items").size()).isEqualTo(eveSessionsBefore);
            assertThat(alice.request("send_message", "sessionId", victim, "text", "still works").path("type").asText())
                    .isEqualTo("message_accepted");
            try (WsClient fresh = WsClient.authenticated(ws, Keys.BOB)) {
                assertThat(fresh.request("ping").path("type").asText()).isEqualTo("pong");
            }
        }
    }
}

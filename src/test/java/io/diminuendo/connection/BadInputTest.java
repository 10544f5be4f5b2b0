package io.diminuendo.connection;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.Tenants;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Malformed, mistyped and oversized input on an authenticated connection (docs/protocol.md, "Errors"): each gets an
 * {@code error} with the right code and a message naming the field, and the connection stays open, usable and
 * unchanged. The test profile limits frames to 65,536 bytes; the WebSocket layer's hard cap is 4 MiB.
 */
@QuarkusTest
class BadInputTest {
    private static final int FRAME_LIMIT = 65_536;

    @TestHTTPResource("/ws")
    URI ws;

    private String token;
    private WsClient c;
    private String sessionId;
    private String sessionBefore;

    @BeforeEach
    void connectAndCreateASession() {
        token = Tenants.token(Tenants.fresh("bad-input"), "alice");
        c = WsClient.authenticated(ws, token);
        sessionId = c.createSession("before");
        sessionBefore = session(c);
    }

    @AfterEach
    void disconnect() {
        c.close();
    }

    @Test
    void answersAFrameThatIsNotJsonWithBadRequest() {
        JsonNode error = rejected("{nope", "bad_request");
        assertThat(error.path("message").asText()).contains("JSON");
        assertStillUsable();
    }

    @Test
    void answersJsonThatIsNotAnObjectWithBadRequest() {
        for (String frame : List.of("[1,2]", "\"hello\"", "42", "null", "true")) {
            JsonNode error = rejected(frame, "bad_request");
            assertThat(error.path("message").asText()).as(frame).contains("JSON object");
            assertStillUsable();
        }
    }

    @Test
    void requiresAStringType() {
        JsonNode missing = rejected("{\"id\":\"no-type\"}", "bad_request");
        assertThat(missing.path("id").asText()).isEqualTo("no-type");
        assertThat(missing.path("message").asText()).contains("'type'");
        assertStillUsable();

        JsonNode number = rejected("{\"id\":\"numeric-type\",\"type\":5}", "bad_request");
        assertThat(number.path("id").asText()).isEqualTo("numeric-type");
        assertThat(number.path("message").asText()).contains("'type'");
        assertStillUsable();
    }

    @Test
    void answersAnUnknownTypeWithUnknownTypeEchoingTheId() {
        JsonNode error = rejected("{\"id\":\"u1\",\"type\":\"frobnicate\"}", "unknown_type");
        assertThat(error.path("id").asText()).isEqualTo("u1");
        assertThat(error.path("message").asText()).contains("frobnicate");
        assertStillUsable();

        JsonNode numeric = rejected("{\"id\":17,\"type\":\"frobnicate\"}", "unknown_type");
        assertThat(numeric.path("id").isIntegralNumber()).isTrue();
        assertThat(numeric.path("id").asLong()).isEqualTo(17);
        assertStillUsable();
    }

    @Test
    void namesTheFieldOfEveryWrongFieldType() {
        assertFieldRejected("{\"type\":\"create_session\",\"title\":5}", "title");
        assertFieldRejected("{\"type\":\"subscribe\",\"sessionId\":\"" + sessionId + "\",\"afterSeq\":\"x\"}", "afterSeq");
        assertFieldRejected("{\"type\":\"subscribe\",\"sessionId\":\"" + sessionId + "\",\"afterSeq\":-1}", "afterSeq");
        assertFieldRejected("{\"type\":\"history\",\"sessionId\":\"" + sessionId + "\",\"limit\":0}", "limit");
        assertFieldRejected("{\"type\":\"history\",\"sessionId\":\"" + sessionId + "\",\"limit\":5000}", "limit");
        assertFieldRejected("{\"type\":\"send_message\",\"sessionId\":\"" + sessionId + "\"}", "text");
        assertFieldRejected("{\"type\":\"get_session\"}", "sessionId");
        assertFieldRejected("{\"type\":\"permission_decision\",\"sessionId\":\"" + sessionId
                + "\",\"requestId\":\"perm_1\",\"decision\":\"maybe\"}", "decision");
    }

    @Test
    void rejectsAnIdThatIsTooLongOrNotAStringOrIntegerWithoutEchoingIt() {
        String longId = "i".repeat(65);
        for (String id : List.of("\"" + longId + "\"", "{\"a\":1}", "[1]", "1.5", "true")) {
            JsonNode error = rejected("{\"type\":\"ping\",\"id\":" + id + "}", "bad_request");
            assertThat(error.has("id")).as(id).isFalse();
            assertThat(error.path("message").asText()).as(id).contains("'id'");
            assertStillUsable();
        }
        String maxId = "i".repeat(64);
        c.send("{\"type\":\"ping\",\"id\":\"" + maxId + "\"}");
        assertThat(c.reply(maxId).path("type").asText()).isEqualTo("pong");
    }

    @Test
    void echoesAnIntegerIdAsAJsonInteger() {
        c.send("{\"type\":\"ping\",\"id\":9007199254740993}");
        JsonNode pong = c.await(n -> "pong".equals(n.path("type").asText()));
        assertThat(pong.path("id").isIntegralNumber()).isTrue();
        assertThat(pong.path("id").asLong()).isEqualTo(9007199254740993L);
    }

    @Test
    void answersAFrameOverTheSizeLimitWithTooLarge() {
        String frame = padded("{\"type\":\"ping\",\"id\":\"big\",\"pad\":\"", 'x', 70_000);
        assertThat(frame.getBytes(StandardCharsets.UTF_8)).hasSize(70_000);
        JsonNode error = rejected(frame, "too_large");
        assertThat(error.path("message").asText()).contains(Integer.toString(FRAME_LIMIT));
        assertStillUsable();
    }

    @Test
    void countsTheSizeLimitInUtf8Bytes() {
        String manyChars = padded("{\"type\":\"ping\",\"pad\":\"", 'é', 70_000);
        assertThat(manyChars.length()).isEqualTo(70_000);
        rejected(manyChars, "too_large");
        assertStillUsable();

        // fewer characters than the limit, more bytes: still too large
        String fewCharsManyBytes = padded("{\"type\":\"ping\",\"pad\":\"", '€', 25_000);
        assertThat(fewCharsManyBytes.length()).isLessThan(FRAME_LIMIT);
        assertThat(fewCharsManyBytes.getBytes(StandardCharsets.UTF_8).length).isGreaterThan(FRAME_LIMIT);
        rejected(fewCharsManyBytes, "too_large");
        assertStillUsable();

        // just under the limit in bytes: accepted (the unknown field is ignored)
        String underLimit = padded("{\"type\":\"ping\",\"id\":\"under\",\"pad\":\"", '€', 21_000);
        assertThat(underLimit.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(FRAME_LIMIT);
        c.send(underLimit);
        assertThat(c.reply("under").path("type").asText()).isEqualTo("pong");
    }

    @Test
    void answersABinaryFrameWithBadRequest() {
        c.sendBinary("{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8));
        JsonNode error = c.await(n -> "error".equals(n.path("type").asText()));
        assertThat(error.path("code").asText()).isEqualTo("bad_request");
        assertThat(error.path("message").asText()).contains("binary");
        assertStillUsable();
    }

    @Test
    void closesAFrameOverTheHardCapWith1009AndKeepsServing() {
        String huge = padded("{\"type\":\"ping\",\"pad\":\"", 'x', 5 * 1024 * 1024);
        try {
            c.send(huge);
        } catch (RuntimeException e) {
            // the gateway may close while the frame is still being written
        }
        assertThat(c.awaitClose()).isEqualTo(1009);

        try (WsClient fresh = WsClient.authenticated(ws, token)) {
            assertThat(fresh.request("ping").path("type").asText()).isEqualTo("pong");
            assertThat(session(fresh)).isEqualTo(sessionBefore);
        }
    }

    @Test
    void theWholeBadInputMatrixChangesNothing() {
        JsonNode before = c.request("list_sessions", "limit", 200);
        List<String> bad = List.of("{nope", "[1,2]", "\"s\"", "7", "{}", "{\"type\":[]}", "{\"type\":\"frobnicate\"}",
                "{\"type\":\"create_session\",\"title\":5}",
                "{\"type\":\"create_session\",\"title\":\"" + "t".repeat(201) + "\"}",
                "{\"type\":\"create_session\",\"metadata\":\"not an object\"}",
                "{\"type\":\"update_session\",\"sessionId\":\"" + sessionId + "\",\"title\":7}",
                "{\"type\":\"update_session\",\"sessionId\":\"" + sessionId + "\"}",
                "{\"type\":\"archive_session\"}", "{\"type\":\"delete_session\",\"sessionId\":5}",
                "{\"type\":\"subscribe\",\"sessionId\":\"" + sessionId + "\",\"afterSeq\":\"x\"}",
                "{\"type\":\"history\",\"sessionId\":\"" + sessionId + "\",\"limit\":5000}",
                "{\"type\":\"send_message\",\"sessionId\":\"" + sessionId + "\"}",
                "{\"type\":\"send_message\",\"sessionId\":\"" + sessionId + "\",\"text\":\"\"}",
                "{\"type\":\"send_message\",\"sessionId\":\"" + sessionId + "\",\"text\":\"hi\",\"clientMessageId\":3}",
                "{\"type\":\"cancel_turn\"}",
                "{\"type\":\"permission_decision\",\"sessionId\":\"" + sessionId + "\",\"requestId\":\"r\",\"decision\":\"maybe\"}",
                "{\"type\":\"list_sessions\",\"limit\":0}", "{\"type\":\"list_sessions\",\"status\":\"gone\"}",
                "{\"type\":\"create_session\",\"id\":\"" + "i".repeat(65) + "\"}",
                padded("{\"type\":\"create_session\",\"title\":\"", 'x', 70_000));
        for (String frame : bad) {
            JsonNode error = rejected(frame, null);
            assertThat(error.path("code").asText()).as(abbreviate(frame)).isIn("bad_request", "unknown_type", "too_large");
        }
        c.sendBinary(new byte[] {1, 2, 3});
        assertThat(c.await(n -> "error".equals(n.path("type").asText())).path("code").asText()).isEqualTo("bad_request");

        assertStillUsable();
        JsonNode after = c.request("list_sessions", "limit", 200);
        assertThat(after.path("items").size()).isEqualTo(before.path("items").size()).isEqualTo(1);
        assertThat(after.path("items")).isEqualTo(before.path("items"));
        JsonNode history = c.request("history", "sessionId", sessionId, "afterSeq", 0);
        assertThat(history.path("events").size()).isZero();
        assertThat(history.path("lastSeq").asLong()).isZero();
    }

    /** Sends {@code raw} and returns the error it gets; checks the code when {@code code} is given. */
    private JsonNode rejected(String raw, String code) {
        c.send(raw);
        JsonNode reply = c.await(n -> !"tenant_event".equals(n.path("type").asText()));
        assertThat(reply.path("type").asText()).as("reply to %s: %s", abbreviate(raw), reply).isEqualTo("error");
        if (code != null) {
            assertThat(reply.path("code").asText()).as("reply to %s", abbreviate(raw)).isEqualTo(code);
        }
        assertThat(reply.path("message").asText()).isNotBlank();
        assertThat(c.isClosed()).isFalse();
        return reply;
    }

    /** The frame with an id is answered by bad_request echoing the id and naming {@code field}. */
    private void assertFieldRejected(String frameWithoutId, String field) {
        String id = WsClient.nextId();
        String frame = "{\"id\":\"" + id + "\"," + frameWithoutId.substring(1);
        c.send(frame);
        JsonNode error = c.reply(id);
        assertThat(error.path("type").asText()).as(frame).isEqualTo("error");
        assertThat(error.path("code").asText()).as(frame).isEqualTo("bad_request");
        assertThat(error.path("message").asText()).as(frame).contains("'" + field + "'");
        assertStillUsable();
    }

    private void assertStillUsable() {
        assertThat(c.request("ping").path("type").asText()).isEqualTo("pong");
        assertThat(session(c)).isEqualTo(sessionBefore);
        assertThat(c.isClosed()).isFalse();
    }

    private String session(WsClient client) {
        JsonNode reply = client.request("get_session", "sessionId", sessionId);
        assertThat(reply.path("type").asText()).isEqualTo("session");
        return reply.path("session").toString();
    }

    /** {@code prefix}, then {@code pad} characters, then the closing {@code "}}, {@code totalChars} characters in all. */
    private static String padded(String prefix, char pad, int totalChars) {
        return prefix + String.valueOf(pad).repeat(totalChars - prefix.length() - 2) + "\"}";
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "…(" + s.length() + " chars)";
    }

}

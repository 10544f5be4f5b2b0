package io.diminuendo.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Golden JSON of the frames the gateway sends (docs/protocol.md, "1. Client protocol (`/ws`)") and of {@link Json}'s string escaping. */
class ServerFramesTest {
    private static final ObjectMapper JACKSON = new ObjectMapper();
    private static final long TS = 1_700_000_000_123L;
    private static final String SESSION = "{\"id\":\"s1\",\"title\":\"T\"}";

    @Test
    void buildsTheOneEventShape() {
        String frame = ServerFrames.event("s1", 42, "t1", EventKind.TEXT_DELTA, TS, "{\"text\":\"hi\"}");
        assertThat(frame).isEqualTo("{\"type\":\"event\",\"sessionId\":\"s1\",\"seq\":42,\"turnId\":\"t1\","
                + "\"kind\":\"text_delta\",\"ts\":1700000000123,\"data\":{\"text\":\"hi\"}}");
        assertValidJson(frame);
        assertThat(ServerFrames.event("s1", 1, "t1", EventKind.TURN_STARTED, TS, "{}"))
                .isEqualTo("{\"type\":\"event\",\"sessionId\":\"s1\",\"seq\":1,\"turnId\":\"t1\","
                        + "\"kind\":\"turn_started\",\"ts\":1700000000123,\"data\":{}}");
    }

    @Test
    void buildsErrorsWithAStringIdAnIntegerIdOrNoId() {
        assertThat(ServerFrames.error("\"r1\"", ErrorCode.BAD_REQUEST, "field 'title' must be a string"))
                .isEqualTo("{\"type\":\"error\",\"id\":\"r1\",\"code\":\"bad_request\",\"message\":\"field 'title' must be a string\"}");
        assertThat(ServerFrames.error("7", ErrorCode.UNKNOWN_TYPE, "unknown type 'x'"))
                .isEqualTo("{\"type\":\"error\",\"id\":7,\"code\":\"unknown_type\",\"message\":\"unknown type 'x'\"}");
        assertThat(ServerFrames.error(null, ErrorCode.TOO_LARGE, "frame exceeds 65536 bytes"))
                .isEqualTo("{\"type\":\"error\",\"code\":\"too_large\",\"message\":\"frame exceeds 65536 bytes\"}");
        String escaped = ServerFrames.error(null, ErrorCode.INTERNAL, "say \"hi\"\n");
        assertThat(escaped).isEqualTo("{\"type\":\"error\",\"code\":\"internal\",\"message\":\"say \\\"hi\\\"\\n\"}");
        assertThat(assertValidJson(escaped).path("message").asText()).isEqualTo("say \"hi\"\n");
    }

    @Test
    void usesTheWireNamesOfEveryErrorCode() {
        assertThat(List.of(ErrorCode.values())).extracting(ErrorCode::wire).containsExactly("bad_request", "unknown_type",
                "unauthorized", "forbidden", "not_found", "method_not_allowed", "conflict", "too_large",
                "unsupported_media_type", "rate_limited", "unavailable", "internal");
    }

    @Test
    void buildsAuthenticated() {
        String frame = ServerFrames.authenticated("\"a\"", "c1", "alice", "acme", List.of("sessions:read", "sessions:write"), TS);
        assertThat(frame).isEqualTo("{\"type\":\"authenticated\",\"id\":\"a\",\"connectionId\":\"c1\","
                + "\"user\":{\"id\":\"alice\",\"tenantId\":\"acme\",\"scopes\":[\"sessions:read\",\"sessions:write\"]},"
                + "\"protocolVersion\":1,\"serverTime\":1700000000123}");
        assertValidJson(frame);
        assertThat(ServerFrames.authenticated(null, "c2", "bob", "acme", List.of(), TS))
                .isEqualTo("{\"type\":\"authenticated\",\"connectionId\":\"c2\","
                        + "\"user\":{\"id\":\"bob\",\"tenantId\":\"acme\",\"scopes\":[]},"
                        + "\"protocolVersion\":1,\"serverTime\":1700000000123}");
    }

    @Test
    void buildsSubscribed() {
        assertThat(ServerFrames.subscribed("\"s\"", "s1", 42, "running", "8f00aa"))
                .isEqualTo("{\"type\":\"subscribed\",\"id\":\"s\",\"sessionId\":\"s1\",\"lastSeq\":42,"
                        + "\"status\":\"running\",\"epoch\":\"8f00aa\"}");
        assertThat(ServerFrames.subscribed(null, "s1", 0, "idle", "e"))
                .isEqualTo("{\"type\":\"subscribed\",\"sessionId\":\"s1\",\"lastSeq\":0,\"status\":\"idle\",\"epoch\":\"e\"}");
    }

    @Test
    void buildsHistoryWithTheStoredEventFramesVerbatim() {
        String e1 = ServerFrames.event("s1", 1, "t1", EventKind.USER_MESSAGE, TS, "{\"text\":\"q\",\"userId\":\"alice\"}");
        String e2 = ServerFrames.event("s1", 2, "t1", EventKind.TURN_STARTED, TS, "{}");
        String frame = ServerFrames.history("3", "s1", List.of(e1, e2), 2);
        assertThat(frame).isEqualTo("{\"type\":\"history\",\"id\":3,\"sessionId\":\"s1\",\"events\":[" + e1 + "," + e2
                + "],\"lastSeq\":2}");
        assertThat(assertValidJson(frame).path("events").get(1).path("seq").asLong()).isEqualTo(2);
        assertThat(ServerFrames.history(null, "s1", List.of(), 0))
                .isEqualTo("{\"type\":\"history\",\"sessionId\":\"s1\",\"events\":[],\"lastSeq\":0}");
    }

    @Test
    void buildsSessionsWithANullOrStringNextCursor() {
        assertThat(ServerFrames.sessions("\"l\"", List.of(SESSION, SESSION), null))
                .isEqualTo("{\"type\":\"sessions\",\"id\":\"l\",\"items\":[" + SESSION + "," + SESSION + "],\"nextCursor\":null}");
        assertThat(ServerFrames.sessions(null, List.of(), "abc"))
                .isEqualTo("{\"type\":\"sessions\",\"items\":[],\"nextCursor\":\"abc\"}");
    }

    @Test
    void buildsTenantEvents() {
        assertThat(ServerFrames.tenantEvent("session_created", SESSION))
                .isEqualTo("{\"type\":\"tenant_event\",\"event\":\"session_created\",\"session\":" + SESSION + "}");
        assertThat(ServerFrames.tenantEvent("session_archived", SESSION))
                .isEqualTo("{\"type\":\"tenant_event\",\"event\":\"session_archived\",\"session\":" + SESSION + "}");
        assertThat(ServerFrames.tenantSessionDeleted("s1"))
                .isEqualTo("{\"type\":\"tenant_event\",\"event\":\"session_deleted\",\"sessionId\":\"s1\"}");
    }

    @Test
    void buildsTheOtherReplies() {
        assertThat(ServerFrames.withSession("session_created", "1", SESSION))
                .isEqualTo("{\"type\":\"session_created\",\"id\":1,\"session\":" + SESSION + "}");
        assertThat(ServerFrames.sessionDeleted("\"d\"", "s1"))
                .isEqualTo("{\"type\":\"session_deleted\",\"id\":\"d\",\"sessionId\":\"s1\"}");
        assertThat(ServerFrames.unsubscribed(null, "s1", "session_deleted"))
                .isEqualTo("{\"type\":\"unsubscribed\",\"sessionId\":\"s1\",\"reason\":\"session_deleted\"}");
        assertThat(ServerFrames.unsubscribed("2", "s1", null)).isEqualTo("{\"type\":\"unsubscribed\",\"id\":2,\"sessionId\":\"s1\"}");
        assertThat(ServerFrames.messageAccepted("\"m\"", "s1", "t1"))
                .isEqualTo("{\"type\":\"message_accepted\",\"id\":\"m\",\"sessionId\":\"s1\",\"turnId\":\"t1\"}");
        assertThat(ServerFrames.cancelRequested(null, "s1", "t1"))
                .isEqualTo("{\"type\":\"cancel_requested\",\"sessionId\":\"s1\",\"turnId\":\"t1\"}");
        assertThat(ServerFrames.permissionDecisionAccepted("4", "s1", "perm_1"))
                .isEqualTo("{\"type\":\"permission_decision_accepted\",\"id\":4,\"sessionId\":\"s1\",\"requestId\":\"perm_1\"}");
        assertThat(ServerFrames.pong("\"p\"", TS)).isEqualTo("{\"type\":\"pong\",\"id\":\"p\",\"serverTime\":1700000000123}");
    }

    @Test
    void escapesQuotesBackslashesAndControlCharacters() {
        assertThat(Json.quote("plain")).isEqualTo("\"plain\"");
        assertThat(Json.quote("")).isEqualTo("\"\"");
        assertThat(Json.quote(null)).isEqualTo("null");
        assertThat(Json.quote("a\"b\\c/d")).isEqualTo("\"a\\\"b\\\\c/d\"");
        assertThat(Json.quote("\n\r\t\b\f")).isEqualTo("\"\\n\\r\\t\\b\\f\"");
        assertThat(Json.quote("\u0000\u0001\u001f")).isEqualTo("\"\\u0000\\u0001\\u001f\"");
        assertThat(Json.quote("\u007f é €")).isEqualTo("\"\u007f é €\"");
        assertThat(Json.quote("😀")).isEqualTo("\"😀\"");
    }

    @Test
    void escapesTheJavaScriptLineSeparators() {
        assertThat(Json.quote("a\u2028b\u2029c")).isEqualTo("\"a\\u2028b\\u2029c\"");
    }

    @Test
    void roundTripsEveryCharacterThroughJackson() throws Exception {
        StringBuilder all = new StringBuilder(0x10000);
        for (int c = 0; c < 0x10000; c++) {
            if (!Character.isSurrogate((char) c)) {
                all.append((char) c);
            }
        }
        all.append("😀𝄞");
        String value = all.toString();
        assertThat(JACKSON.readValue(Json.quote(value), String.class)).isEqualTo(value);

        String tricky = "q\"b\\s\n\u0000\u2028\u2029\u001f end";
        String frame = Json.obj().str("k", tricky).num("n", -5).bool("b", true).raw("r", "[1]").strIfPresent("absent", null)
                .rawIfPresent("absent2", null).end();
        assertThat(frame).isEqualTo("{\"k\":\"q\\\"b\\\\s\\n\\u0000\\u2028\\u2029\\u001f end\",\"n\":-5,\"b\":true,\"r\":[1]}");
        JsonNode parsed = assertValidJson(frame);
        assertThat(parsed.path("k").asText()).isEqualTo(tricky);
        assertThat(parsed.path("n").asLong()).isEqualTo(-5);
    }

    @Test
    void producesTextWithoutRawControlOrLineSeparatorCharacters() {
        StringBuilder controls = new StringBuilder();
        for (char c = 0; c < 0x20; c++) {
            controls.append(c);
        }
        controls.append('\u2028').append('\u2029');
        String quoted = Json.quote(controls.toString());
        assertThat(quoted.chars().filter(ch -> ch < 0x20 || ch == 0x2028 || ch == 0x2029)).isEmpty();
    }

    private static JsonNode assertValidJson(String text) {
        try {
            JsonNode node = JACKSON.readTree(text);
            assertThat(node.isObject()).isTrue();
            return node;
        } catch (Exception e) {
            throw new AssertionError("not valid JSON: " + text, e);
        }
    }
}

package io.diminuendo.connection;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.support.RawWebSocket;
import io.diminuendo.support.Tenants;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * Browsers send every message as one WebSocket frame (the JDK client used elsewhere splits large ones into
 * 16 KiB fragments). With the default 256 KiB frame limit, a single-frame message under the limit is served, one
 * over it gets {@code too_large}, and one over the 4 MiB hard cap is closed with 1009 and a close frame, whether it
 * is sent whole or only its head announces the size (docs/protocol.md, "Errors").
 */
@QuarkusTest
@TestProfile(SingleFrameSizeTest.DefaultFrameLimit.class)
class SingleFrameSizeTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static class DefaultFrameLimit implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("diminuendo.limits.max-frame-bytes", "262144");
        }
    }

    @TestHTTPResource("/ws")
    URI ws;

    @Test
    void servesAHundredThousandCharacterPromptSentAsOneFrame() throws Exception {
        String token = Tenants.token(Tenants.fresh("frames"), "alice");
        String sessionId;
        try (WsClient c = WsClient.authenticated(ws, token)) {
            sessionId = c.createSession("big prompt");
        }
        try (RawWebSocket raw = authenticated(token)) {
            raw.sendText("{\"type\":\"send_message\",\"id\":\"big\",\"sessionId\":\"" + sessionId + "\",\"text\":\""
                    + "p".repeat(100_000) + "\"}");
            assertThat(replyTo(raw, "big").path("type").asText()).isEqualTo("message_accepted");
        }
    }

    @Test
    void answersASingleFrameOverTheLimitWithTooLargeAndKeepsTheConnection() throws Exception {
        String token = Tenants.token(Tenants.fresh("frames"), "alice");
        try (RawWebSocket raw = authenticated(token)) {
            raw.sendText("{\"type\":\"ping\",\"id\":\"big\",\"pad\":\"" + "x".repeat(300_000) + "\"}");
            JsonNode error = nextText(raw);
            assertThat(error.path("type").asText()).isEqualTo("error");
            assertThat(error.path("code").asText()).isEqualTo("too_large");
            raw.sendText("{\"type\":\"ping\",\"id\":\"after\"}");
            assertThat(replyTo(raw, "after").path("type").asText()).isEqualTo("pong");
        }
    }

    @Test
    void closesASingleFrameOverTheHardCapWith1009AndKeepsServing() throws Exception {
        String token = Tenants.token(Tenants.fresh("frames"), "alice");
        try (RawWebSocket raw = authenticated(token)) {
            // written whole before anything is read, as a client that sends a large message does
            raw.sendText("{\"type\":\"ping\",\"pad\":\"" + "x".repeat(5 * 1024 * 1024) + "\"}");
            assertThat(raw.readCloseCode("pong")).isEqualTo(1009);
        }
        try (WsClient fresh = WsClient.authenticated(ws, token)) {
            assertThat(fresh.request("ping").path("type").asText()).isEqualTo("pong");
        }
    }

    @Test
    void closesAFrameWhoseHeadAnnouncesFiveMebibytesWith1009BeforeItsPayload() throws Exception {
        String token = Tenants.token(Tenants.fresh("frames"), "alice");
        try (RawWebSocket raw = authenticated(token)) {
            raw.sendHead(0x80 | RawWebSocket.OP_TEXT, 5L * 1024 * 1024);
            assertThat(raw.readCloseCode("pong")).isEqualTo(1009);
        }
    }

    private RawWebSocket authenticated(String token) throws IOException {
        RawWebSocket raw = RawWebSocket.connect(ws, 65536);
        raw.authenticate(token);
        return raw;
    }

    private static JsonNode nextText(RawWebSocket raw) throws IOException {
        RawWebSocket.Frame f = raw.read();
        assertThat(f).as("a frame, not the end of the connection").isNotNull();
        assertThat(f.opcode()).as("a text frame, not a close (code %d)", f.closeCode()).isEqualTo(RawWebSocket.OP_TEXT);
        return JSON.readTree(f.text());
    }

    private static JsonNode replyTo(RawWebSocket raw, String id) throws IOException {
        while (true) {
            JsonNode n = nextText(raw);
            if (id.equals(n.path("id").asText(null))) {
                return n;
            }
        }
    }
}

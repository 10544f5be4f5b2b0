package io.diminuendo.connection;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

import io.diminuendo.support.Keys;
import io.diminuendo.support.RawWebSocket;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Frames RFC 6455 says the server must fail, sent by a hand-made client, each ended by a close frame with its code: a
 * frame with an RSV bit and no negotiated extension (1002), a text message that is not valid UTF-8, in one frame or
 * across fragments (1007). Nothing of them is served, and other connections are not affected.
 */
@QuarkusTest
class Rfc6455Test {
    @TestHTTPResource("/ws")
    URI ws;

    private static byte[] ping(byte[] idBytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write("{\"type\":\"ping\",\"id\":\"".getBytes(StandardCharsets.US_ASCII));
        out.write(idBytes);
        out.write("\"}".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    @Test
    void aFrameWithAnRsvBitAndNoExtensionClosesWith1002() throws Exception {
        try (RawWebSocket raw = RawWebSocket.connect(ws, 65536)) {
            raw.authenticate(Keys.ALICE);
            raw.sendFrame(0x80 | 0x40 | RawWebSocket.OP_TEXT, ping("rsv1".getBytes(StandardCharsets.US_ASCII)));
            assertThat(raw.readCloseCode("pong")).isEqualTo(1002);
        }
        assertOthersAreServed();
    }

    @Test
    void requestsDecodedBeforeAViolationAreAnsweredBeforeTheClose() throws Exception {
        try (RawWebSocket raw = RawWebSocket.connect(ws, 65536)) {
            raw.authenticate(Keys.ALICE);
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            for (int i = 0; i < 20; i++) {
                burst.writeBytes(RawWebSocket.frame(0x80 | RawWebSocket.OP_TEXT,
                        ("{\"type\":\"ping\",\"id\":\"before-" + i + "\"}").getBytes(StandardCharsets.US_ASCII)));
            }
            burst.writeBytes(RawWebSocket.frame(0x80 | 0x40 | RawWebSocket.OP_TEXT, ping("rsv1".getBytes(StandardCharsets.US_ASCII))));
            raw.sendRaw(burst.toByteArray());
            for (int i = 0; i < 20; i++) {
                assertThat(raw.readTextUntil("\"before-" + i + "\"")).contains("pong");
            }
            RawWebSocket.Frame last = raw.read();
            assertThat(last).isNotNull();
            assertThat(last.opcode()).isEqualTo(RawWebSocket.OP_CLOSE);
            assertThat(last.closeCode()).isEqualTo(1002);
        }
    }

    @Test
    void aTextFrameWithInvalidUtf8ClosesWith1007() throws Exception {
        try (RawWebSocket raw = RawWebSocket.connect(ws, 65536)) {
            raw.authenticate(Keys.ALICE);
            // 0xC3 opens a two-byte sequence that 0x28 does not continue
            raw.sendFrame(0x80 | RawWebSocket.OP_TEXT, ping(new byte[] {(byte) 0xc3, 0x28}));
            assertThat(raw.readCloseCode("pong")).isEqualTo(1007);
        }
        assertOthersAreServed();
    }

    @Test
    void invalidUtf8SplitAcrossFragmentsClosesWith1007() throws Exception {
        try (RawWebSocket raw = RawWebSocket.connect(ws, 65536)) {
            raw.authenticate(Keys.ALICE);
            byte[] frame = ping(new byte[] {'a', (byte) 0xe2, (byte) 0x82, 0x41});
            int cut = frame.length - 4;
            raw.sendFrame(RawWebSocket.OP_TEXT, Arrays.copyOfRange(frame, 0, cut));
            raw.sendFrame(0x80, Arrays.copyOfRange(frame, cut, frame.length));
            assertThat(raw.readCloseCode("pong")).isEqualTo(1007);
        }
    }

    @Test
    void validUtf8SplitInsideACharacterAcrossFragmentsIsServed() throws Exception {
        try (RawWebSocket raw = RawWebSocket.connect(ws, 65536)) {
            raw.authenticate(Keys.ALICE);
            // the euro sign (E2 82 AC), its bytes split between the two fragments
            byte[] frame = ping(new byte[] {'e', (byte) 0xe2, (byte) 0x82, (byte) 0xac});
            int cut = frame.length - 3;
            raw.sendFrame(RawWebSocket.OP_TEXT, Arrays.copyOfRange(frame, 0, cut));
            raw.sendFrame(0x80, Arrays.copyOfRange(frame, cut, frame.length));
            assertThat(raw.readTextUntil("pong")).contains("e\u20ac");
        }
    }

    private void assertOthersAreServed() {
        try (WsClient other = WsClient.authenticated(ws, Keys.ALICE)) {
            assertThat(other.request("ping").path("type").asText()).isEqualTo("pong");
        }
    }
}

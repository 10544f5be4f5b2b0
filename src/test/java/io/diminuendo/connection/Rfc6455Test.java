package io.diminuendo.connection;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import io.diminuendo.support.Keys;
import io.diminuendo.support.RawWebSocket;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Frames RFC 6455 says the server must fail, sent by a hand-made client: a frame with an RSV bit and no negotiated
 * extension is not served and closes the connection (1002), and other connections are not affected.
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

    private static int closeCodeAfter(RawWebSocket raw) throws IOException {
        for (RawWebSocket.Frame f = raw.read(); f != null; f = raw.read()) {
            if (f.opcode() == RawWebSocket.OP_CLOSE) {
                return f.closeCode();
            }
            assertThat(f.text()).as("nothing served before the close").doesNotContain("pong");
        }
        return -1;
    }

    @Test
    void aFrameWithAnRsvBitAndNoExtensionClosesWith1002() throws Exception {
        try (RawWebSocket raw = RawWebSocket.connect(ws, 65536)) {
            raw.authenticate(Keys.ALICE);
            raw.sendFrame(0x80 | 0x40 | RawWebSocket.OP_TEXT, ping("rsv1".getBytes(StandardCharsets.US_ASCII)));
            // the decoder sends close 1002 and closes at once; the rest of the refused frame is still unread on the
            // server, so the socket is reset, which can destroy the close frame before the client reads it
            assertThat(closeCodeAfter(raw)).as("close code, or -1 when the reset came first").isIn(1002, -1);
        }
        try (WsClient other = WsClient.authenticated(ws, Keys.ALICE)) {
            assertThat(other.request("ping").path("type").asText()).isEqualTo("pong");
        }
    }
}

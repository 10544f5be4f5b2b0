package io.diminuendo.connection;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;

/** The outbox's hand-made text frames decode, with Netty's own decoder, to the text they were made from. */
class OutboxEncodingTest {

    @ParameterizedTest
    @ValueSource(ints = { 0, 1, 125, 126, 127, 65_535, 65_536, 300_000 })
    void everyLengthEncodingDecodesToTheSameText(int length) {
        // a 2-byte character in the middle, so byte length and char length differ
        String text = "é".repeat(Math.min(length, 3)) + "x".repeat(Math.max(0, length - 6));
        ByteBuf wire = Outbox.encode(text);
        EmbeddedChannel client = new EmbeddedChannel(new WebSocket13FrameDecoder(false, false, 1 << 20));
        try {
            assertThat(client.writeInbound(wire)).isTrue();
            TextWebSocketFrame frame = client.readInbound();
            try {
                assertThat(frame.isFinalFragment()).isTrue();
                assertThat(frame.content().toString(StandardCharsets.UTF_8)).isEqualTo(text);
                assertThat(frame.content().readableBytes()).isEqualTo(text.getBytes(StandardCharsets.UTF_8).length);
            } finally {
                frame.release();
            }
            assertThat((Object) client.readInbound()).as("exactly one frame").isNull();
        } finally {
            client.finishAndReleaseAll();
        }
    }
}

package io.diminuendo.connection;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/** The ASCII test that lets a one-frame text message skip the byte-by-byte UTF-8 check. */
class FrameViolationsUnitTest {
    @Test
    void aByteWithItsHighBitSetAnywhereIsNotAscii() {
        for (int length = 0; length <= 24; length++) {
            byte[] bytes = new byte[length];
            Arrays.fill(bytes, (byte) 'a');
            assertThat(FrameViolations.isAscii(Unpooled.wrappedBuffer(bytes))).as("%d ASCII bytes", length).isTrue();
            for (int at = 0; at < length; at++) {
                byte[] marked = bytes.clone();
                marked[at] = (byte) 0x80;
                assertThat(FrameViolations.isAscii(Unpooled.wrappedBuffer(marked)))
                        .as("0x80 at %d of %d", at, length).isFalse();
            }
        }
    }

    @Test
    void onlyTheReadableBytesCount() {
        ByteBuf buf = Unpooled.wrappedBuffer(new byte[] {(byte) 0xff, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', (byte) 0xff});
        buf.readerIndex(1).writerIndex(10);
        assertThat(FrameViolations.isAscii(buf)).isTrue();
    }
}

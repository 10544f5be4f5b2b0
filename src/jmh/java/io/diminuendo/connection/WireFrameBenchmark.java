package io.diminuendo.connection;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import io.diminuendo.protocol.EventKind;
import io.diminuendo.protocol.ServerFrames;
import io.diminuendo.upstream.EventMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * Turning an event frame into the bytes of a WebSocket text frame, once per published event ({@link Outbox#encode}):
 * a typical {@code text_delta} (ASCII) and one whose text is not ASCII. {@code nettyCharLoop} is the encoding the
 * outbox used before, Netty's UTF-8 writer reading the string a character at a time.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class WireFrameBenchmark {
    @Param({ "ascii", "accented" })
    public String text;

    private String frame;

    @Setup
    public void setUp() {
        String delta = "ascii".equals(text) ? "I'll look at the \"failing\" test first.\n" : "Prüfe die Änderung → ok ✓ ";
        frame = ServerFrames.event("3f2b8c1e-9a4d-4e7b-b1c2-5d6e7f8a9b0c", 1204, "8d7c6b5a-4f3e-4d2c-9b1a-0f1e2d3c4b5a",
                EventKind.TEXT_DELTA, 1_760_000_000_000L, EventMapper.textData(delta));
    }

    @Benchmark
    public int outbox() {
        ByteBuf b = Outbox.encode(frame);
        int n = b.readableBytes();
        b.release();
        return n;
    }

    @Benchmark
    public int nettyCharLoop() {
        int length = ByteBufUtil.utf8Bytes(frame);
        int header = length < 126 ? 2 : length <= 0xFFFF ? 4 : 10;
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(header + length);
        b.writeByte(0x81);
        if (length < 126) {
            b.writeByte(length);
        } else {
            b.writeByte(126);
            b.writeShort(length);
        }
        ByteBufUtil.reserveAndWriteUtf8(b, frame, length);
        int n = b.readableBytes();
        b.release();
        return n;
    }
}

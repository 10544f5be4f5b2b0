package io.diminuendo.connection;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;

/**
 * What the strict UTF-8 check adds to an inbound text frame: a typical {@code send_message} frame (ASCII) and one
 * with a prompt of 2,000 characters, many of them not ASCII, passed through a pipeline with and without
 * {@link FrameViolations} (and, for comparison, Netty's {@link Utf8FrameValidator} alone, which checks every byte),
 * then turned into a String as Vert.x does. The difference is the check's cost.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class InboundFrameBenchmark {
    private static final String SEND_MESSAGE = "{\"type\":\"send_message\",\"id\":\"req-42\",\"sessionId\":"
            + "\"3f2b8c1e-9a4d-4e7b-b1c2-5d6e7f8a9b0c\",\"text\":\"Please run the test suite and fix the failing "
            + "EventMapper test; keep the behaviour identical.\",\"clientMessageId\":\"cm-0001\"}";
    private static final String NON_ASCII = "{\"type\":\"send_message\",\"id\":\"req-43\",\"sessionId\":"
            + "\"3f2b8c1e-9a4d-4e7b-b1c2-5d6e7f8a9b0c\",\"text\":\"" + "Prüfe die Änderung → ok ✓ ".repeat(80) + "\"}";

    private ByteBuf ascii;
    private ByteBuf mixed;
    private EmbeddedChannel plain;
    private EmbeddedChannel checked;
    private EmbeddedChannel netty;

    @Setup
    public void setUp() {
        ascii = Unpooled.copiedBuffer(SEND_MESSAGE, StandardCharsets.UTF_8);
        mixed = Unpooled.copiedBuffer(NON_ASCII, StandardCharsets.UTF_8);
        plain = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        checked = new EmbeddedChannel(new FrameViolations(null));
        netty = new EmbeddedChannel(new Utf8FrameValidator(false));
    }

    @TearDown
    public void tearDown() {
        plain.finishAndReleaseAll();
        checked.finishAndReleaseAll();
        netty.finishAndReleaseAll();
        ascii.release();
        mixed.release();
    }

    private static String pass(EmbeddedChannel channel, ByteBuf payload) {
        channel.writeInbound(new TextWebSocketFrame(payload.retainedDuplicate()));
        TextWebSocketFrame frame = channel.readInbound();
        try {
            return frame.content().toString(StandardCharsets.UTF_8);
        } finally {
            frame.release();
        }
    }

    @Benchmark
    public String asciiFrameUnchecked() {
        return pass(plain, ascii);
    }

    @Benchmark
    public String asciiFrameChecked() {
        return pass(checked, ascii);
    }

    @Benchmark
    public String asciiFrameCheckedByNettyAlone() {
        return pass(netty, ascii);
    }

    @Benchmark
    public String nonAsciiFrameUnchecked() {
        return pass(plain, mixed);
    }

    @Benchmark
    public String nonAsciiFrameChecked() {
        return pass(checked, mixed);
    }
}

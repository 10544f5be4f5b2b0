package io.diminuendo.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.protocol.ClientRequest;
import io.diminuendo.protocol.EventKind;
import io.diminuendo.protocol.FrameDecoder;
import io.diminuendo.protocol.ServerFrames;
import io.diminuendo.upstream.BackendEvent;
import io.diminuendo.upstream.BackendEventCodec;
import io.diminuendo.upstream.EventMapper;

/**
 * The JSON codec on the hot paths, in operations/s on one thread: encoding one client event frame
 * ({@link ServerFrames#event}, once per published event), decoding typical client frames with the gateway's
 * {@link FrameDecoder} (default limits), and decoding one §3 {@code content_block_delta} frame as the WebSocket
 * backend does ({@link BackendEventCodec#decodeFrame}) and as it did before (Jackson tree, then
 * {@link BackendEventCodec#decode}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(2)
public class CodecBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SESSION_ID = "3f2b8c1e-9a4d-4e7b-b1c2-5d6e7f8a9b0c";
    private static final String TURN_ID = "8d7c6b5a-4f3e-4d2c-9b1a-0f1e2d3c4b5a";

    private final FrameDecoder decoder = new FrameDecoder(JSON, new FrameDecoder.Limits(100_000, 200, 16_384));
    private final String textData = EventMapper.textData("I'll look at the \"failing\" test first.\n");
    private final String sendMessage = "{\"type\":\"send_message\",\"id\":\"req-42\",\"sessionId\":\"" + SESSION_ID
            + "\",\"text\":\"Please run the test suite and fix the failing EventMapper test; keep the behaviour identical.\","
            + "\"clientMessageId\":\"cm-0001\"}";
    private final String subscribe = "{\"type\":\"subscribe\",\"id\":17,\"sessionId\":\"" + SESSION_ID + "\",\"afterSeq\":1204}";
    private final String backendDelta = BackendEventCodec.encode(TURN_ID, new BackendEvent.TextDelta(1, "the failing "));
    private long seq;

    @Benchmark
    public String encodeEventFrame() {
        return ServerFrames.event(SESSION_ID, ++seq, TURN_ID, EventKind.TEXT_DELTA, 1_760_000_000_000L + seq, textData);
    }

    @Benchmark
    public ClientRequest decodeSendMessage() {
        return decoder.decode(sendMessage);
    }

    @Benchmark
    public ClientRequest decodeSubscribe() {
        return decoder.decode(subscribe);
    }

    /** The tree decoding the WebSocket backend used before {@link BackendEventCodec#decodeFrame}. */
    @Benchmark
    public BackendEvent decodeBackendDeltaTree() throws Exception {
        JsonNode frame = JSON.readTree(backendDelta);
        return BackendEventCodec.decode(frame.path("event").asText(null), frame.get("data"));
    }

    @Benchmark
    public BackendEventCodec.Frame decodeBackendDelta() throws Exception {
        return BackendEventCodec.decodeFrame(backendDelta);
    }
}

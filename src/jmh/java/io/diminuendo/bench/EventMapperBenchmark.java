package io.diminuendo.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import io.diminuendo.upstream.BackendEvent;
import io.diminuendo.upstream.BackendEventCodec;
import io.diminuendo.upstream.EventMapper;

/**
 * Backend event → client event mapping on one thread, in events/s. {@code mapTurn} maps already decoded events
 * (what {@link EventMapper#map} costs); {@code decodeAndMapTurn} starts from the §3 wire frames as the WebSocket
 * backend receives them ({@link BackendEventCodec#decodeFrame} + map), which is what the original
 * project's "event mapping" figure covered. A new mapper per turn, as {@code TurnService} does.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(2)
public class EventMapperBenchmark {
    private BackendEvent[] turn;
    private String[] wire;
    private BackendEvent.TextDelta textDelta;

    @Setup
    public void setUp() {
        turn = Turns.turn();
        wire = new String[turn.length];
        for (int i = 0; i < turn.length; i++) {
            wire[i] = BackendEventCodec.encode("turn-7f3c2a", turn[i]);
        }
        textDelta = new BackendEvent.TextDelta(1, "the failing ");
    }

    @Benchmark
    @OperationsPerInvocation(Turns.EVENTS)
    public void mapTurn(Blackhole bh) {
        EventMapper mapper = new EventMapper(null);
        EventMapper.Output out = (kind, data) -> bh.consume(data);
        for (BackendEvent e : turn) {
            mapper.map(e, out);
        }
    }

    @Benchmark
    @OperationsPerInvocation(Turns.EVENTS)
    public void decodeAndMapTurn(Blackhole bh) throws Exception {
        EventMapper mapper = new EventMapper(null);
        EventMapper.Output out = (kind, data) -> bh.consume(data);
        for (String text : wire) {
            BackendEventCodec.Frame frame = BackendEventCodec.decodeFrame(text);
            bh.consume(frame.turnId());
            mapper.map(frame.event(), out);
        }
    }

    /** The dominant event alone. */
    @Benchmark
    public void mapTextDelta(Blackhole bh, MapperState s) {
        s.mapper.map(textDelta, s.out(bh));
    }

    @State(Scope.Thread)
    public static class MapperState {
        final EventMapper mapper = new EventMapper(null);
        private EventMapper.Output out;

        EventMapper.Output out(Blackhole bh) {
            if (out == null) {
                out = (kind, data) -> bh.consume(data);
            }
            return out;
        }
    }
}

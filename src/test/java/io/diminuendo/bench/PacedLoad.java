package io.diminuendo.bench;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.bench.Report.Kind;
import io.diminuendo.bench.Report.Result;
import io.diminuendo.upstream.BackendEvent;
import io.diminuendo.upstream.BackendEventCodec;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketClient;

/**
 * The streaming load of a busy deployment rather than a flood: {@code --paced-sessions} sessions, each streaming
 * {@code --paced-rate} text deltas per second for the whole run, each watched by {@code --paced-subscribers}
 * connections of their own. The agent backend is this client itself: it serves the
 * {@linkplain io.diminuendo.upstream.BackendEventCodec agent backend protocol} on {@code --paced-backend-port}, and
 * the gateway is started with that URL as its backend {@code --paced-backend} (a {@code websocket} backend). Every
 * delta's text is the {@link System#nanoTime()} at which this backend wrote it, so emit→receive is measured on one
 * clock in nanoseconds: through the gateway's upstream socket, mapping, sequencing, the store's queue and the
 * fan-out to the subscribers' sockets.
 * <p>
 * The first {@code --paced-warmup} seconds are not measured; then, for {@code --paced-duration} seconds, every delta
 * emitted is expected at each subscriber of its session: deliveries/s, emit→receive percentiles, lost deliveries
 * and subscribers the gateway cut are reported, with the gateway's CPU per delivery.
 */
final class PacedLoad {
    private static final String STAMP = "\"text\":\"@";
    /** The window's time slices whose slowest delivery is reported, to tell one stall from a spread tail. */
    private static final long SLICE_NANOS = 10_000_000L;
    private static final int SLOWEST_SLICES = 5;

    private final Benchmarks bench;
    private final Vertx vertx;
    private final LoadConfig cfg;

    PacedLoad(Benchmarks bench, Vertx vertx, LoadConfig cfg) {
        this.bench = bench;
        this.vertx = vertx;
        this.cfg = cfg;
    }

    /** The measured window, on this process's {@link System#nanoTime()} clock; 0 until the turns run. */
    private static final class Window {
        volatile long from = Long.MAX_VALUE;
        volatile long to = Long.MAX_VALUE;
        /** The slowest emit→receive of the deltas emitted in each {@link #SLICE_NANOS} of the window. */
        volatile AtomicLongArray slowest = new AtomicLongArray(0);

        boolean contains(long nanos) {
            return nanos >= from && nanos < to;
        }

        void open(long from, long to) {
            slowest = new AtomicLongArray((int) ((to - from + SLICE_NANOS - 1) / SLICE_NANOS));
            this.to = to;
            this.from = from;
        }

        void received(long emitted, long latency) {
            AtomicLongArray slices = slowest;
            int i = (int) ((emitted - from) / SLICE_NANOS);
            if (i >= 0 && i < slices.length()) {
                slices.accumulateAndGet(i, latency, Math::max);
            }
        }
    }

    /** One subscriber connection; touched only on its own context. */
    private static final class Sub {
        final Context ctx;
        final Ws ws;
        final Window window;
        final Stats.Samples nanos = new Stats.Samples(4096);
        long received;
        boolean ended;
        final Promise<Void> done = Promise.promise();

        Sub(Context ctx, Ws ws, Window window) {
            this.ctx = ctx;
            this.ws = ws;
            this.window = window;
            ws.onClosed = () -> done.tryFail("closed by the gateway: " + ws.socket.closeStatusCode() + " "
                    + ws.socket.closeReason());
        }

        void onEvent(String s) {
            long now = System.nanoTime();
            int i = s.indexOf(STAMP);
            if (i >= 0) {
                long emitted = Benchmarks.parseLong(s, i + STAMP.length());
                if (window.contains(emitted)) {
                    received++;
                    nanos.add(now - emitted);
                    window.received(emitted, now - emitted);
                }
            } else if (s.contains("\"kind\":\"turn_completed\"") || s.contains("\"kind\":\"turn_failed\"")
                    || s.contains("\"kind\":\"turn_cancelled\"")) {
                ended = true;
                done.tryComplete();
            }
        }
    }

    /** A turn this backend is streaming. */
    private static final class Turn {
        final ServerWebSocket socket;
        final String turnId;
        final long interval;
        final long endAt;
        long nextAt;
        int index;

        Turn(ServerWebSocket socket, String turnId, long startAt, long interval, long endAt) {
            this.socket = socket;
            this.turnId = turnId;
            this.nextAt = startAt;
            this.interval = interval;
            this.endAt = endAt;
        }
    }

    /**
     * The agent backend: one WebSocket from each gateway carries its turns; a 1 ms timer on the backend's event loop
     * writes every delta that is due, so a late tick catches up instead of lowering the rate.
     */
    private final class Backend {
        final Window window;
        final long interval;
        final long runNanos;
        final Map<String, Turn> turns = new HashMap<>();
        final AtomicLong emittedInWindow = new AtomicLong();
        final AtomicInteger started = new AtomicInteger();
        final Promise<Void> connected = Promise.promise();
        HttpServer server;
        long timer = -1;

        Backend(Window window, long interval, long runNanos) {
            this.window = window;
            this.interval = interval;
            this.runNanos = runNanos;
        }

        Future<HttpServer> listen(Context ctx, int port) {
            return Benchmarks.onContext(ctx, () -> {
                server = vertx.createHttpServer(new HttpServerOptions().setTcpNoDelay(true)
                        .setMaxWebSocketMessageSize(1 << 20));
                server.webSocketHandler(ws -> {
                    if (!"/agent".equals(ws.path())) {
                        ws.close((short) 1008, "not here");
                        return;
                    }
                    ws.textMessageHandler(text -> op(ws, text));
                    connected.tryComplete();
                    if (timer < 0) {
                        timer = vertx.setPeriodic(1, id -> tick());
                    }
                });
                return server.listen(port);
            });
        }

        private void op(ServerWebSocket socket, String text) {
            JsonNode op;
            try {
                op = Ws.JSON.readTree(text);
            } catch (Exception e) {
                return;
            }
            if (!"start_turn".equals(op.path("op").asText())) {
                return; // a cancel or a decision: the turn runs to its end anyway
            }
            String turnId = op.path("turnId").asText();
            int n = started.getAndIncrement();
            long now = System.nanoTime();
            // spread the sessions' deltas over the interval rather than emitting them all on the same tick
            Turn t = new Turn(socket, turnId, now + interval * n / Math.max(1, cfg.integer("paced-sessions")), interval,
                    now + runNanos);
            turns.put(turnId, t);
            socket.writeTextMessage(BackendEventCodec.encode(turnId, new BackendEvent.MessageStart()));
            socket.writeTextMessage(BackendEventCodec.encode(turnId, new BackendEvent.BlockStart(0, "text", null, null)));
        }

        private void tick() {
            if (turns.isEmpty()) {
                return;
            }
            long now = System.nanoTime();
            List<String> over = null;
            for (Turn t : turns.values()) {
                while (t.nextAt <= now && t.nextAt < t.endAt) {
                    long stamp = System.nanoTime();
                    t.socket.writeTextMessage(BackendEventCodec.encode(t.turnId,
                            new BackendEvent.TextDelta(0, "@" + stamp + " ")));
                    if (window.contains(stamp)) {
                        emittedInWindow.incrementAndGet();
                    }
                    t.index++;
                    t.nextAt += t.interval;
                }
                if (t.nextAt >= t.endAt) {
                    t.socket.writeTextMessage(BackendEventCodec.encode(t.turnId, new BackendEvent.BlockStop(0)));
                    t.socket.writeTextMessage(BackendEventCodec.encode(t.turnId,
                            new BackendEvent.MessageDelta("end_turn", 1L, (long) t.index)));
                    t.socket.writeTextMessage(BackendEventCodec.encode(t.turnId, new BackendEvent.MessageStop()));
                    if (over == null) {
                        over = new ArrayList<>();
                    }
                    over.add(t.turnId);
                }
            }
            if (over != null) {
                over.forEach(turns::remove);
            }
        }

        Future<Void> close(Context ctx) {
            return Benchmarks.onContext(ctx, () -> {
                if (timer >= 0) {
                    vertx.cancelTimer(timer);
                }
                return server == null ? Future.succeededFuture() : server.close();
            });
        }
    }

    void run(List<Target> targets, Report report) {
        int sessions = cfg.integer("paced-sessions");
        double rate = cfg.decimal("paced-rate");
        int k = cfg.integer("paced-subscribers");
        double warm = cfg.decimal("paced-warmup");
        double secs = cfg.decimal("paced-duration");
        String agent = cfg.get("paced-backend");
        int port = cfg.integer("paced-backend-port");
        Result r = new Result("paced", String.format(Locale.ROOT,
                "Paced streaming: %d sessions × %s events/s, %d subscribers each", sessions, num(rate), k),
                String.format(Locale.ROOT, "A realistic load rather than a flood: %d sessions stream text deltas at %s/s "
                        + "each for %s s (%s s of warm-up, %s s measured, 1 s more), each session watched by %d "
                        + "subscriber connections of its own (%,d connections). The agent backend is the load client "
                        + "(ws://…:%d/agent, the gateway's backend `%s`); each delta carries the nanoTime at which it "
                        + "was written, so emit→receive is measured on one clock: upstream socket, mapping, sequencing, "
                        + "store queue, fan-out and the subscriber's socket. Lost = deltas emitted in the window × "
                        + "subscribers − received.", sessions, num(rate), num(warm + secs + 1), num(warm), num(secs), k,
                        sessions * k, port, agent));
        for (Target t : targets) {
            try {
                runOne(t, sessions, rate, k, warm, secs, agent, port, r);
            } catch (Exception e) {
                String msg = e.getClass().getSimpleName() + ": " + e.getMessage();
                Benchmarks.log("FAILED paced on %s: %s", t, msg);
                r.failures.put(t.label(), msg);
            }
        }
        report.add(r);
    }

    private void runOne(Target t, int sessions, double rate, int k, double warm, double secs, String agent, int port,
            Result r) throws Exception {
        Window window = new Window();
        long interval = (long) (1e9 / rate);
        // the turns go on a second past the window, so that their ends (100 turns completing in the same
        // millisecond, with their stores and events) are not measured as the stream's tail
        long runNanos = (long) ((warm + secs + 1) * 1e9);
        Context backendCtx = bench.newContext();
        Backend backend = new Backend(window, interval, runNanos);
        WebSocketClient wsc = vertx.createWebSocketClient(Benchmarks.wsOptions());
        List<Sub> subs = new ArrayList<>();
        Ws driver = null;
        Context driverCtx = bench.newContext();
        List<String> ids = new ArrayList<>();
        try {
            bench.await(backend.listen(backendCtx, port));
            Benchmarks.log("paced: %s backend listening on :%d, waiting for the gateway to connect (its backend `%s`)",
                    t, port, agent);
            bench.await(backend.connected.future());
            driver = bench.await(Benchmarks.onContext(driverCtx, () -> Ws.open(wsc, t, false)));
            Ws d = driver;
            for (int s = 0; s < sessions; s++) {
                int n = s;
                ids.add(bench.await(Benchmarks.onContext(driverCtx, () -> d.call("create_session", Ws.fields()
                        .put("title", "load-client paced " + n).put("agent", agent), "session_created")))
                        .path("session").path("id").asText());
            }
            Benchmarks.log("paced: %s opening %,d subscriber connections", t, sessions * k);
            for (String sid : ids) {
                List<Future<Ws>> opened = new ArrayList<>();
                List<Context> ctxs = new ArrayList<>();
                for (int i = 0; i < k; i++) {
                    Context ctx = bench.newContext();
                    ctxs.add(ctx);
                    opened.add(Benchmarks.onContext(ctx, () -> Ws.open(wsc, t, false)
                            .compose(ws -> ws.call("subscribe", Ws.fields().put("sessionId", sid), "subscribed")
                                    .map(ws))));
                }
                bench.await(Future.all(opened));
                for (int i = 0; i < k; i++) {
                    Sub sub = new Sub(ctxs.get(i), opened.get(i).result(), window);
                    sub.ws.onEvent = sub::onEvent;
                    subs.add(sub);
                }
            }
            Benchmarks.log("paced: %s starting %d turns (%.0f s each)", t, sessions, warm + secs);
            List<Future<JsonNode>> accepted = new ArrayList<>();
            for (String sid : ids) {
                accepted.add(Benchmarks.onContext(driverCtx, () -> d.call("send_message",
                        Ws.fields().put("sessionId", sid).put("text", "paced"), "message_accepted")));
            }
            bench.await(Future.all(accepted));
            long startedAt = System.nanoTime();
            long from = startedAt + (long) (warm * 1e9);
            window.open(from, from + (long) (secs * 1e9));
            CpuMeter cpu = new CpuMeter(t, null);
            sleepUntil(window.from);
            cpu.start();
            sleepUntil(window.to);
            cpu.stop();
            List<Future<Void>> done = new ArrayList<>();
            subs.forEach(s -> done.add(s.done.future()));
            try {
                Benchmarks.await(Future.join(done), 30);
            } catch (Exception e) {
                Benchmarks.log("paced: %s not every subscriber saw its turn end: %s", t, e.getMessage());
            }
            Stats.Samples all = new Stats.Samples(1 << 20);
            long received = 0;
            long cut = 0;
            String firstCut = null;
            for (Sub s : subs) {
                Object[] v = bench.await(Benchmarks.onContext(s.ctx, () -> Future.succeededFuture(
                        new Object[] {s.received, s.nanos, s.done.future().failed() ? s.done.future().cause().getMessage() : null})));
                received += (long) v[0];
                all.addAll((Stats.Samples) v[1]);
                if (v[2] != null) {
                    cut++;
                    firstCut = firstCut == null ? (String) v[2] : firstCut;
                }
            }
            long expected = backend.emittedInWindow.get() * k;
            Stats lat = Stats.ofNanos(all.values, all.size);
            String l = t.label();
            r.add(l, "deliveries", "deliveries/s (measured window)", received / secs, Kind.RATE);
            r.add(l, "latP50", "emit→receive p50", lat.p50(), Kind.MS);
            r.add(l, "latP99", "emit→receive p99", lat.p99(), Kind.MS);
            r.add(l, "latP999", "emit→receive p99.9", Stats.quantile(all.values, all.size, 1, 0.999), Kind.MS);
            r.add(l, "latMax", "emit→receive max", lat.max(), Kind.MS);
            r.add(l, "lost", "lost deliveries", expected - received, Kind.COUNT);
            r.add(l, "cut", "subscribers cut", cut, Kind.COUNT);
            cpu.report(r, l, received, "delivery", "deliveries");
            r.detail(l).put("emittedInWindow", backend.emittedInWindow.get());
            r.detail(l).put("expectedDeliveries", expected);
            if (firstCut != null) {
                r.detail(l).put("firstCut", firstCut);
            }
            Benchmarks.log("paced: %s %,d of %,d deliveries in the window, p50 %.3f ms, p99 %.3f ms, %d cut", t,
                    received, expected, lat.p50(), lat.p99(), cut);
            reportSlowest(r, l, window, lat.p99());
        } finally {
            for (Sub s : subs) {
                Benchmarks.onContext(s.ctx, s.ws::close);
            }
            if (driver != null && cfg.bool("cleanup")) {
                Ws d = driver;
                for (String sid : ids) {
                    try {
                        Benchmarks.await(Benchmarks.onContext(driverCtx, () -> d.call("delete_session",
                                Ws.fields().put("sessionId", sid), "session_deleted")), 10);
                    } catch (Exception e) {
                        // best effort
                    }
                }
                Benchmarks.onContext(driverCtx, d::close);
            }
            Benchmarks.await(backend.close(backendCtx), 10);
            wsc.close();
        }
    }

    /**
     * How the tail is spread over the window: the number of 10 ms slices whose slowest delivery is above the p99, and
     * the slowest slices with their wall-clock time (to set beside GC or system logs). A few slices far above the rest
     * are a stall of one side; many slices a little above it are queueing.
     */
    private static void reportSlowest(Result r, String target, Window window, double p99Millis) {
        AtomicLongArray slices = window.slowest;
        long p99 = (long) (p99Millis * 1e6);
        int above = 0;
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < slices.length(); i++) {
            if (slices.get(i) > p99) {
                above++;
            }
            order.add(i);
        }
        order.sort((a, b) -> Long.compare(slices.get(b), slices.get(a)));
        r.add(target, "slicesAboveP99", "10 ms slices whose slowest delivery is above the p99", above, Kind.COUNT);
        // nanoTime has no epoch: place the window on the wall clock from one reading of both
        long wallOffset = Instant.now().toEpochMilli() * 1_000_000L - System.nanoTime();
        DateTimeFormatter hms = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneOffset.UTC);
        List<String> slowest = new ArrayList<>();
        for (int i : order.subList(0, Math.min(SLOWEST_SLICES, order.size()))) {
            long start = window.from + i * SLICE_NANOS;
            String at = hms.format(Instant.ofEpochMilli((start + wallOffset) / 1_000_000L));
            slowest.add(String.format(Locale.ROOT, "%s UTC (+%.2f s) %.1f ms", at, i * SLICE_NANOS / 1e9,
                    slices.get(i) / 1e6));
        }
        r.detail(target).put("slowestSlices", String.join("; ", slowest));
        Benchmarks.log("paced: %d of %d slices of 10 ms above the p99; slowest: %s", above, slices.length(),
                String.join("; ", slowest));
    }

    private static String num(double v) {
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%s", v);
    }

    private static void sleepUntil(long nanos) throws InterruptedException {
        long left;
        while ((left = nanos - System.nanoTime()) > 0) {
            Thread.sleep(Math.max(1, left / 1_000_000));
        }
    }
}

package io.diminuendo.bench;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.bench.Report.Kind;
import io.diminuendo.bench.Report.Result;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.impl.VertxInternal;

/**
 * The benchmarks. Latency loops run on one client event loop and chain each request on the completion of the
 * previous one, so no thread hand-off sits inside a measured interval; every client connection of a loop is
 * created on that same event loop.
 */
final class Benchmarks {
    private static final Clock UTC = Clock.systemUTC();

    private final Vertx vertx;
    private final LoadConfig cfg;
    private final Report report;
    private final List<Target> targets;
    private final Target backend;
    private final long timeoutSec;
    private final int warmup;
    private final Long backendPid;

    Benchmarks(Vertx vertx, LoadConfig cfg, Report report, List<Target> targets, Target backend) {
        this.vertx = vertx;
        this.cfg = cfg;
        this.report = report;
        this.targets = targets;
        this.backend = backend;
        this.timeoutSec = cfg.integer("timeout");
        this.warmup = cfg.integer("warmup");
        this.backendPid = cfg.has("backend-pid") ? Long.valueOf(cfg.get("backend-pid")) : null;
    }

    // ------------------------------------------------------------------ client warm-up

    /**
     * Warms this client's own code paths (and every target equally) before anything is measured, so the first
     * target measured does not pay for the client's JIT compilation: /health in a closed loop, then
     * connect+authenticate and create_session/delete_session round trips, against each target in turn.
     */
    void clientWarmup() {
        double secs = cfg.decimal("client-warmup");
        if (secs <= 0) {
            return;
        }
        int rounds = cfg.integer("client-warmup-rounds");
        for (Target t : targets) {
            try {
                log("client warm-up: %s (%.0f s of /health, %d connects, %d sessions)", t, secs, rounds, rounds);
                HttpClient client = vertx.createHttpClient(httpOptions(t),
                        new PoolOptions().setHttp1MaxSize(cfg.integer("health-connections")));
                Context[] ctxs = {newContext(), newContext()};
                runClosedLoop(client, ctxs, cfg.integer("health-connections"), secs);
                client.close();
                WebSocketClient wsc = vertx.createWebSocketClient(wsOptions());
                Context ctx = newContext();
                await(loop(ctx, rounds, i -> Ws.open(wsc, t, i % 2 == 0).compose(ws -> ws.close().map(0L))));
                Ws ws = await(onContext(ctx, () -> Ws.open(wsc, t, false)));
                await(loop(ctx, rounds, i -> ws.call("create_session", Ws.fields().put("title", "load-client warm-up"),
                        "session_created").compose(reply -> ws.call("delete_session", Ws.fields()
                                .put("sessionId", reply.path("session").path("id").asText()), "session_deleted"))
                        .map(0L)));
                await(ws.close());
                wsc.close();
            } catch (Exception e) {
                log("client warm-up against %s failed: %s", t, e.getMessage());
            }
        }
    }

    // ------------------------------------------------------------------ /health

    void health() {
        int n = cfg.integer("health-iterations");
        int conns = cfg.integer("health-connections");
        double secs = cfg.decimal("health-duration");
        Result r = new Result("health", "Health endpoint: GET /health",
                String.format(Locale.ROOT, "Sequential: %d requests after %d warm-up, one keep-alive connection. "
                        + "Throughput: %d keep-alive connections, one request in flight on each, %.0f s after %.0f s warm-up.",
                        n, warmup, conns, secs, cfg.decimal("health-warmup-duration")));
        for (Target t : targets) {
            try {
                log("health: %s sequential", t);
                Stats s = healthSequential(t, n, r);
                r.latency(t.label(), "", s, true);
                r.add(t.label(), "rpsSeq", "RPS (sequential, 1 connection)", 1000.0 / s.mean(), Kind.RATE);
                log("health: %s %d connections for %.0f s", t, conns, secs);
                healthThroughput(t, conns, secs, r);
            } catch (Exception e) {
                fail(r, t, e);
            }
        }
        report.add(r);
    }

    private Stats healthSequential(Target t, int n, Result r) throws Exception {
        HttpClient client = vertx.createHttpClient(httpOptions(t), new PoolOptions().setHttp1MaxSize(1));
        try {
            long[] all = await(loop(newContext(), warmup + n, i -> healthOnce(client)));
            return Stats.ofNanos(Arrays.copyOfRange(all, warmup, warmup + n), n);
        } finally {
            client.close();
        }
    }

    private void healthThroughput(Target t, int conns, double secs, Result r) throws Exception {
        HttpClient client = vertx.createHttpClient(httpOptions(t), new PoolOptions().setHttp1MaxSize(conns));
        try {
            int threads = Math.max(1, cfg.integer("client-threads"));
            Context[] ctxs = new Context[Math.min(threads, conns)];
            for (int i = 0; i < ctxs.length; i++) {
                ctxs[i] = newContext();
            }
            runClosedLoop(client, ctxs, conns, cfg.decimal("health-warmup-duration"));
            CpuMeter cpu = new CpuMeter(t, null);
            cpu.start();
            Object[] outcome = runClosedLoop(client, ctxs, conns, secs);
            cpu.stop();
            Stats.Samples all = (Stats.Samples) outcome[0];
            double elapsed = (double) outcome[1];
            long errors = (long) outcome[2];
            String c = " (" + conns + " connections)";
            r.add(t.label(), "concurrent", "RPS" + c, all.size / elapsed, Kind.RATE);
            Stats s = Stats.ofNanos(all.values, all.size);
            r.add(t.label(), "concP50", "p50" + c, s.p50(), Kind.MS);
            r.add(t.label(), "concP99", "p99" + c, s.p99(), Kind.MS);
            r.add(t.label(), "concErrors", "errors" + c, errors, Kind.COUNT);
            cpu.report(r, t.label(), all.size, "request", "requests");
            r.detail(t.label()).put("throughputRequests", all.size);
            r.detail(t.label()).put("throughputSeconds", elapsed);
        } finally {
            client.close();
        }
    }

    /** {@code conns} workers, each keeping one request in flight, until {@code secs} have passed. */
    private Object[] runClosedLoop(HttpClient client, Context[] ctxs, int conns, double secs) throws Exception {
        long start = System.nanoTime();
        long end = start + (long) (secs * 1e9);
        List<Future<Stats.Samples>> workers = new ArrayList<>();
        long[] errors = new long[conns];
        long[] finished = new long[conns];
        for (int w = 0; w < conns; w++) {
            int id = w;
            Context ctx = ctxs[w % ctxs.length];
            Promise<Stats.Samples> done = Promise.promise();
            Stats.Samples samples = new Stats.Samples(1 << 16);
            ctx.runOnContext(v -> new Runnable() {
                @Override
                public void run() {
                    long t0 = System.nanoTime();
                    if (t0 >= end) {
                        finished[id] = t0;
                        done.complete(samples);
                        return;
                    }
                    healthOnce(client).onComplete(ar -> {
                        if (ar.succeeded()) {
                            samples.add(ar.result());
                            run();
                        } else {
                            errors[id]++;
                            ctx.owner().setTimer(1, x -> run());
                        }
                    });
                }
            }.run());
            workers.add(done.future());
        }
        await(Future.all(workers));
        Stats.Samples all = new Stats.Samples(1 << 16);
        long last = start;
        long err = 0;
        for (int w = 0; w < conns; w++) {
            all.addAll(workers.get(w).result());
            last = Math.max(last, finished[w]);
            err += errors[w];
        }
        return new Object[] {all, (last - start) / 1e9, err};
    }

    private static Future<Long> healthOnce(HttpClient client) {
        long t0 = System.nanoTime();
        return client.request(HttpMethod.GET, "/health").compose(HttpClientRequest::send)
                .compose(resp -> resp.body().compose(body -> resp.statusCode() / 100 == 2
                        ? Future.succeededFuture(System.nanoTime() - t0)
                        : Future.failedFuture("GET /health answered " + resp.statusCode())));
    }

    // ------------------------------------------------------------------ connect + authenticate

    void connect() {
        int n = cfg.integer("connect-iterations");
        List<String> modes = cfg.list("connect-auth");
        Result r = new Result("connect", "Connection and authentication: WebSocket upgrade → authenticated",
                String.format(Locale.ROOT, "%d connections after %d warm-up, one at a time: a new TCP connection, the "
                        + "upgrade, authentication (frame: an `authenticate` frame after the upgrade; header: "
                        + "`Authorization: Bearer` on the upgrade), until `authenticated` arrives. Each is closed "
                        + "(untimed) before the next.", n, warmup));
        for (Target t : targets) {
            for (String mode : modes) {
                boolean header = mode.equals("header");
                try {
                    log("connect: %s (%s auth)", t, mode);
                    WebSocketClient wsc = vertx.createWebSocketClient(wsOptions());
                    try {
                        long[] upgrade = new long[warmup + n];
                        long[] all = await(loop(newContext(), warmup + n, i -> {
                            long t0 = System.nanoTime();
                            return Ws.open(wsc, t, header).compose(ws -> {
                                long dt = System.nanoTime() - t0;
                                upgrade[i] = ws.upgradedNanos - t0;
                                return ws.close().map(dt);
                            });
                        }));
                        Stats s = Stats.ofNanos(Arrays.copyOfRange(all, warmup, warmup + n), n);
                        r.latency(t.label(), mode + " ", s, true);
                        if (!header) {
                            // where the time goes: TCP connect + upgrade, then the authenticate round trip
                            long[] rest = new long[n];
                            for (int i = 0; i < n; i++) {
                                rest[i] = all[warmup + i] - upgrade[warmup + i];
                            }
                            Stats up = Stats.ofNanos(Arrays.copyOfRange(upgrade, warmup, warmup + n), n);
                            Stats auth = Stats.ofNanos(rest, n);
                            r.add(t.label(), "frameUpgradeP50", "frame: upgrade part p50", up.p50(), Kind.MS);
                            r.add(t.label(), "frameAuthP50", "frame: authenticate round trip p50", auth.p50(), Kind.MS);
                        }
                    } finally {
                        wsc.close();
                    }
                } catch (Exception e) {
                    fail(r, t, e);
                }
            }
        }
        report.add(r);
    }

    // ------------------------------------------------------------------ session creation

    void session() {
        int n = cfg.integer("session-iterations");
        Result r = new Result("session", "Session creation: create_session → session_created + tenant_event",
                String.format(Locale.ROOT, "%d sessions after %d warm-up, one at a time on one authenticated "
                        + "connection; each is timed until both the `session_created` reply and the connection's own "
                        + "`tenant_event session_created` have arrived (the reply alone in the last rows). The "
                        + "session row is committed to the store (SQLite; PostgreSQL in a cluster) before the reply.", n, warmup));
        for (Target t : targets) {
            WebSocketClient wsc = vertx.createWebSocketClient(wsOptions());
            Context ctx = newContext();
            Ws ws = null;
            List<String> created = new ArrayList<>();
            try {
                log("session: %s", t);
                ws = await(onContext(ctx, () -> Ws.open(wsc, t, false)));
                Ws conn = ws;
                long[] replyOnly = new long[warmup + n];
                Pending[] current = new Pending[1];
                ws.onPush = msg -> {
                    if ("tenant_event".equals(msg.path("type").asText())
                            && "session_created".equals(msg.path("event").asText())) {
                        Pending c = current[0];
                        if (c != null) {
                            c.tenant(msg.path("session").path("id").asText());
                        }
                    }
                };
                long[] all = await(loop(ctx, warmup + n, i -> {
                    Pending p = new Pending();
                    current[0] = p;
                    p.t0 = System.nanoTime();
                    conn.call("create_session", Ws.fields().put("title", "load-client session " + i), "session_created")
                            .onComplete(ar -> {
                                if (ar.failed()) {
                                    p.done.tryFail(ar.cause());
                                    return;
                                }
                                replyOnly[i] = System.nanoTime() - p.t0;
                                String sid = ar.result().path("session").path("id").asText();
                                created.add(sid);
                                p.reply(sid);
                            });
                    return p.done.future();
                }));
                r.latency(t.label(), "", Stats.ofNanos(Arrays.copyOfRange(all, warmup, warmup + n), n), true);
                Stats reply = Stats.ofNanos(Arrays.copyOfRange(replyOnly, warmup, warmup + n), n);
                r.add(t.label(), "replyP50", "reply only p50", reply.p50(), Kind.MS);
                r.add(t.label(), "replyP99", "reply only p99", reply.p99(), Kind.MS);
            } catch (Exception e) {
                fail(r, t, e);
            } finally {
                // also after a failure: a later run must not find the tenant's session limit used up
                closeAfterCleanup(ctx, wsc, ws, created);
            }
        }
        report.add(r);
    }

    /** One create_session in flight: done when its reply and its tenant event (in either order) have arrived. */
    private static final class Pending {
        final Promise<Long> done = Promise.promise();
        final Set<String> early = new HashSet<>();
        long t0;
        String sid;
        boolean tenantSeen;

        void tenant(String id) {
            if (sid == null) {
                early.add(id);
            } else if (sid.equals(id)) {
                tenantSeen = true;
                check();
            }
        }

        void reply(String id) {
            sid = id;
            tenantSeen |= early.contains(id);
            check();
        }

        private void check() {
            if (sid != null && tenantSeen) {
                done.tryComplete(System.nanoTime() - t0);
            }
        }
    }

    private void closeAfterCleanup(Context ctx, WebSocketClient wsc, Ws ws, List<String> created) {
        try {
            if (ws != null && !ws.isClosed()) {
                if (cfg.bool("cleanup")) {
                    deleteSessions(ctx, ws, created);
                }
                await(ws.close());
            }
        } catch (Exception e) {
            log("could not delete the %d sessions created: %s", created.size(), e.getMessage());
        } finally {
            wsc.close();
        }
    }

    private void deleteSessions(Context ctx, Ws ws, List<String> ids) throws Exception {
        List<String> copy = new ArrayList<>(ids);
        await(loop(ctx, copy.size(), i -> delete(ws, copy.get(i), 100)));
    }

    /** delete_session, waiting and asking again while a gateway's frame rate (e.g. the prod profile's) refuses it. */
    private Future<Long> delete(Ws ws, String sessionId, int attempts) {
        return ws.call("delete_session", Ws.fields().put("sessionId", sessionId), "session_deleted").map(0L)
                .recover(e -> attempts > 0 && String.valueOf(e.getMessage()).contains("rate_limited")
                        ? vertx.timer(50).compose(x -> delete(ws, sessionId, attempts - 1))
                        : Future.failedFuture(e));
    }

    // ------------------------------------------------------------------ end-to-end streaming

    void stream() {
        int[] ks = cfg.ints("stream-subscribers");
        int[] tokens = cfg.ints("stream-tokens");
        int rounds = Math.max(1, cfg.integer("stream-rounds"));
        int warmTokens = cfg.integer("stream-warmup-tokens");
        for (int i = 0; i < ks.length; i++) {
            int k = ks[i];
            int n = tokens.length == 0 ? 5000 : tokens[Math.min(i, tokens.length - 1)];
            Result r = new Result("stream.k" + k, String.format(Locale.ROOT,
                    "End-to-end streaming: %d subscriber%s, `/sim tokens=%,d delay_ms=0`, persistence on", k,
                    k == 1 ? "" : "s", n),
                    String.format(Locale.ROOT, "One session, %d authenticated subscriber connection%s; one of them "
                            + "sends the prompt. %d measured turn%s (pooled) after %s. A turn is %,d events "
                            + "(user_message, turn_started, %,d text_delta, usage, turn_completed), every one stored in "
                            + "the store and delivered to every subscriber. Deliveries/s = events received by all "
                            + "subscribers ÷ time from send_message to the last delivery of the turn. "
                            + "Emit→receive = client receive time − the event's `ts` (the gateway's wall clock when it "
                            + "sequenced the event, 1 ms resolution, same machine): an upper bound, up to 1 ms above "
                            + "the true value. Lost = seqs a subscriber never received; each subscriber is waited for until it "
                            + "holds every seq up to the turn's last one, or --stream-settle s pass without a delivery. "
                            + "A clustered target (--urls): a connection of its own sends the prompt on the first pod, "
                            + "which runs the turn and stores it in PostgreSQL; subscriber i connects to pod (i + 1) mod "
                            + "the number of pods, so K=1 is a subscriber on another pod.",
                            k, k == 1 ? "" : "s", rounds, rounds == 1 ? "" : "s",
                            warmTokens > 0 ? String.format(Locale.ROOT, "a %,d-token warm-up turn", warmTokens) : "no warm-up",
                            n + 4, n));
            for (Target t : targets) {
                try {
                    log("stream: %s K=%d tokens=%d rounds=%d", t, k, n, rounds);
                    streamOne(t, k, n, rounds, warmTokens, r);
                } catch (Exception e) {
                    fail(r, t, e);
                }
            }
            report.add(r);
        }
    }

    /**
     * One subscriber's view of a turn; touched only on its own event loop (but {@link #lastNanos}). Each seq is
     * counted once, whatever the order it arrives in: a subscriber on another pod than the turn's receives events
     * only once the owner has committed them, and a pod that sees a gap catches up from the store, so a subscriber
     * is done when it holds every seq up to the turn's last one ({@link #expectUpTo}), whoever saw that one first.
     */
    private static final class Sub {
        final Context ctx;
        final Ws ws;
        /** On another pod than the one running the turn. */
        final boolean remote;
        final BitSet seen = new BitSet();
        long base;
        long received;
        long duplicates;
        long upTo;
        String terminalKind;
        String terminalFrame;
        /** {@link System#nanoTime()} of the last event received; read by the waiting thread. */
        volatile long lastNanos;
        boolean measuring;
        Stats.Samples latencyMicros = new Stats.Samples(1024);
        /** This turn's last seq, set by the first subscriber that receives the terminal event. */
        AtomicLong turnEnd = new AtomicLong(-1);
        /** Completes when this subscriber received the terminal event; fails when its connection is closed. */
        Promise<Void> ended = Promise.promise();
        /** Completes when this subscriber holds every seq up to {@link #upTo}; fails when its connection is closed. */
        Promise<Void> caughtUp = Promise.promise();

        Sub(Context ctx, Ws ws, boolean remote) {
            this.ctx = ctx;
            this.ws = ws;
            this.remote = remote;
            ws.onClosed = () -> {
                String why = "connection closed by the gateway: " + ws.socket.closeStatusCode() + " "
                        + ws.socket.closeReason();
                ended.tryFail(why);
                caughtUp.tryFail(why);
            };
        }

        void reset(long base, boolean measuring, AtomicLong turnEnd) {
            this.base = base;
            this.seen.clear();
            this.received = 0;
            this.duplicates = 0;
            this.upTo = -1;
            this.terminalKind = null;
            this.terminalFrame = null;
            this.measuring = measuring;
            this.turnEnd = turnEnd;
            this.ended = Promise.promise();
            this.caughtUp = Promise.promise();
        }

        /** The turn ends at seq {@code last}: done once every seq after {@link #base} up to it has arrived. */
        void expectUpTo(long last) {
            upTo = last;
            checkCaughtUp();
        }

        private void checkCaughtUp() {
            // no seq after the turn's last exists, so the count of distinct seqs says whether all have arrived
            if (upTo >= 0 && received >= upTo - base) {
                caughtUp.tryComplete();
            }
        }

        void onEvent(String s) {
            Instant now = UTC.instant();
            int i = s.indexOf("\"seq\":");
            if (i < 0) {
                return;
            }
            long seq = parseLong(s, i + 6);
            if (seq <= base || caughtUp.future().isComplete()) {
                return;
            }
            int k = s.indexOf("\"kind\":\"", i);
            int t = s.indexOf("\"ts\":", k);
            long ts = parseLong(s, t + 5);
            int bit = (int) (seq - base - 1);
            if (seen.get(bit)) {
                duplicates++;
            } else {
                seen.set(bit);
                received++;
            }
            if (measuring) {
                latencyMicros.add(now.getEpochSecond() * 1_000_000L + now.getNano() / 1000 - ts * 1000);
            }
            lastNanos = System.nanoTime();
            if (s.startsWith("turn_", k + 8)) {
                int from = k + 8;
                if (s.startsWith("turn_completed\"", from) || s.startsWith("turn_failed\"", from)
                        || s.startsWith("turn_cancelled\"", from)) {
                    terminalKind = s.substring(from, s.indexOf('"', from));
                    terminalFrame = terminalKind.equals("turn_completed") ? null
                            : s.substring(s.indexOf("\"data\":"), Math.min(s.length(), s.indexOf("\"data\":") + 300));
                    turnEnd.compareAndSet(-1, seq);
                    ended.tryComplete();
                    upTo = seq;
                }
            }
            checkCaughtUp();
        }
    }
    static long parseLong(String s, int from) {
        long v = 0;
        int i = from;
        boolean neg = false;
        if (i < s.length() && s.charAt(i) == '-') {
            neg = true;
            i++;
        }
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                break;
            }
            v = v * 10 + (c - '0');
        }
        return neg ? -v : v;
    }

    private void streamOne(Target t, int k, int tokens, int rounds, int warmTokens, Result r) throws Exception {
        WebSocketClient wsc = vertx.createWebSocketClient(wsOptions());
        List<Sub> subs = new ArrayList<>();
        Ws ownDriver = null;
        try {
            for (int from = 0; from < k; from += 100) {
                List<Future<Ws>> batch = new ArrayList<>();
                List<Context> ctxs = new ArrayList<>();
                for (int i = from; i < Math.min(k, from + 100); i++) {
                    Context ctx = newContext();
                    ctxs.add(ctx);
                    Target pod = t.subscriberPod(i);
                    batch.add(onContext(ctx, () -> Ws.open(wsc, pod, false)));
                }
                await(Future.all(batch));
                for (int i = 0; i < batch.size(); i++) {
                    subs.add(new Sub(ctxs.get(i), batch.get(i).result(), t.clustered() && t.subscriberPod(from + i) != t.pods().get(0)));
                }
            }
            for (Sub s : subs) {
                s.ws.onEvent = s::onEvent;
            }
            // One gateway: the first subscriber sends the prompt. A cluster: a connection of its own on the first
            // pod, which therefore runs the turn, while the subscribers are spread over the pods.
            Context driverCtx;
            if (t.clustered()) {
                driverCtx = newContext();
                ownDriver = await(onContext(driverCtx, () -> Ws.open(wsc, t, false)));
                Map<String, Integer> perPod = new LinkedHashMap<>();
                for (int i = 0; i < k; i++) {
                    perPod.merge(t.subscriberPod(i).label(), 1, Integer::sum);
                }
                r.detail(t.label()).put("subscribersPerPod", perPod);
                r.detail(t.label()).put("turnRunsOn", t.pods().get(0).label());
            } else {
                driverCtx = subs.get(0).ctx;
            }
            Ws driver = ownDriver != null ? ownDriver : subs.get(0).ws;
            long deliveries = 0;
            double elapsedSum = 0;
            long lost = 0;
            long duplicates = 0;
            long eventsPerTurn = 0;
            int failedTurns = 0;
            long closedSubs = 0;
            List<Double> perRound = new ArrayList<>();
            Stats.Samples latency = new Stats.Samples(1 << 16);
            Stats.Samples latencyOwnPod = new Stats.Samples(1 << 10);
            Stats.Samples latencyOtherPods = new Stats.Samples(1 << 16);
            CpuMeter cpu = new CpuMeter(t, backendPid);
            int turns = (warmTokens > 0 ? 1 : 0) + rounds;
            for (int turn = 0; turn < turns; turn++) {
                boolean measured = warmTokens <= 0 || turn > 0;
                int n = measured ? tokens : warmTokens;
                // A fresh session per turn: every turn starts without history (a websocket backend is sent the
                // session's earlier turns with each start_turn) and with the same subscribers.
                String sid = await(onContext(driverCtx, () -> driver.call("create_session",
                        Ws.fields().put("title", "load-client stream K=" + k), "session_created")))
                        .path("session").path("id").asText();
                AtomicLong turnEnd = new AtomicLong(-1);
                long knownBy = System.nanoTime() + timeoutSec * 1_000_000_000L;
                List<Future<JsonNode>> subscribed = new ArrayList<>();
                for (Sub s : subs) {
                    subscribed.add(onContext(s.ctx, () -> subscribeWhenKnown(s.ctx, s.ws, sid, knownBy).map(reply -> {
                        s.reset(reply.path("lastSeq").asLong(), measured, turnEnd);
                        return reply;
                    })));
                }
                await(Future.all(subscribed));
                long b = subscribed.get(0).result().path("lastSeq").asLong();
                if (measured) {
                    cpu.start();
                }
                long t0 = System.nanoTime();
                Future<JsonNode> accepted = onContext(driverCtx, () -> driver.call("send_message",
                        Ws.fields().put("sessionId", sid).put("text", "/sim tokens=" + n + " delay_ms=0"),
                        "message_accepted"));
                List<Future<Void>> ended = new ArrayList<>();
                for (Sub s : subs) {
                    ended.add(s.ended.future());
                }
                // a subscriber saw the turn end (or all were closed), or the prompt was refused
                Promise<Void> over = Promise.promise();
                Future.any(ended).onComplete(ar -> over.tryComplete());
                accepted.onFailure(over::tryFail);
                try {
                    await(over.future());
                } catch (Exception e) {
                    if (accepted.failed()) {
                        throw e;
                    }
                    // a timeout: counted below per subscriber
                }
                long end = turnEnd.get();
                if (end >= 0) {
                    List<Future<Void>> caughtUp = new ArrayList<>();
                    for (Sub s : subs) {
                        caughtUp.add(onContext(s.ctx, () -> {
                            s.expectUpTo(end);
                            return s.caughtUp.future();
                        }));
                    }
                    awaitWhileDelivering(Future.join(caughtUp), subs);
                }
                if (measured) {
                    cpu.stop();
                }
                await(accepted);
                List<Future<Object[]>> views = new ArrayList<>();
                for (Sub s : subs) {
                    views.add(onContext(s.ctx, () -> Future.succeededFuture(new Object[] {s.received, s.duplicates,
                            s.lastNanos, s.ended.future().failed(), s.terminalKind, s.terminalFrame})));
                }
                await(Future.all(views));
                long last = t0;
                long got = 0;
                long failedSubs = 0;
                String closeReasons = "";
                String badEnd = null;
                for (int i = 0; i < subs.size(); i++) {
                    Object[] v = views.get(i).result();
                    got += (long) v[0];
                    duplicates += measured ? (long) v[1] : 0;
                    last = Math.max(last, (long) v[2]);
                    if ((boolean) v[3]) {
                        failedSubs++;
                        if (closeReasons.isEmpty()) {
                            closeReasons = subs.get(i).ended.future().cause().getMessage();
                        }
                    } else if (v[4] != null && !"turn_completed".equals(v[4]) && badEnd == null) {
                        badEnd = (String) v[5];
                    }
                }
                if (end < 0) {
                    throw new IllegalStateException("no subscriber saw the end of the turn: " + closeReasons);
                }
                long events = end - b;
                long turnLost = events * subs.size() - got;
                double elapsed = (last - t0) / 1e9;
                log("  turn %d%s: %,d events, %,d deliveries in %.3f s = %,.0f/s, lost %d%s%s", turn,
                        measured ? "" : " (warm-up)", events, got, elapsed, got / elapsed, turnLost,
                        failedSubs > 0 ? ", " + failedSubs + " subscribers failed: " + closeReasons : "",
                        badEnd != null ? ", the turn did not complete: " + badEnd : "");
                if (badEnd != null) {
                    if (measured) {
                        failedTurns++;
                        r.detail(t.label()).put("failedTurn", badEnd);
                    }
                } else if (measured) {
                    deliveries += got;
                    elapsedSum += elapsed;
                    lost += turnLost + (k - subs.size()) * events;
                    eventsPerTurn = events;
                    perRound.add(got / elapsed);
                    closedSubs += failedSubs;
                    if (!closeReasons.isEmpty()) {
                        r.detail(t.label()).put("failure", closeReasons);
                    }
                }
                if (failedSubs > 0) {
                    subs.removeIf(s -> s.ws.isClosed());
                    if (subs.isEmpty() || driver.isClosed()) {
                        r.detail(t.label()).put("aborted", "the sending connection was closed");
                        break;
                    }
                }
                if (cfg.bool("cleanup")) {
                    await(onContext(driverCtx, () -> driver.call("delete_session",
                            Ws.fields().put("sessionId", sid), "session_deleted")));
                }
            }
            if (failedTurns > 0) {
                r.failures.put(t.label(), failedTurns + " of " + rounds + " measured turns did not complete: "
                        + r.detail(t.label()).get("failedTurn"));
            }
            if (perRound.isEmpty()) {
                return;
            }
            for (Sub s : subs) {
                await(onContext(s.ctx, () -> {
                    latency.addAll(s.latencyMicros);
                    (s.remote ? latencyOtherPods : latencyOwnPod).addAll(s.latencyMicros);
                    return Future.succeededFuture();
                }));
            }
            Stats lat = Stats.of(latency.values, latency.size, 1000);
            String l = t.label();
            r.add(l, "events", "events per turn", eventsPerTurn, Kind.COUNT);
            r.add(l, "deliveries", "deliveries/s (all subscribers)", deliveries / elapsedSum, Kind.RATE);
            r.add(l, "perSubscriber", "events/s per subscriber", deliveries / elapsedSum / k, Kind.RATE);
            r.add(l, "turnTime", "turn time (mean)", elapsedSum * 1000 / Math.max(1, perRound.size()), Kind.MS);
            r.add(l, "latP50", "emit→receive p50", lat.p50(), Kind.MS);
            r.add(l, "latP99", "emit→receive p99", lat.p99(), Kind.MS);
            r.add(l, "latMean", "emit→receive mean", lat.mean(), Kind.MS);
            r.add(l, "latMax", "emit→receive max", lat.max(), Kind.MS);
            if (t.clustered()) {
                if (latencyOwnPod.size > 0) {
                    Stats own = Stats.of(latencyOwnPod.values, latencyOwnPod.size, 1000);
                    r.add(l, "latOwnPodP50", "emit→receive p50, subscribers on the turn's pod", own.p50(), Kind.MS);
                    r.add(l, "latOwnPodP99", "emit→receive p99, subscribers on the turn's pod", own.p99(), Kind.MS);
                }
                if (latencyOtherPods.size > 0) {
                    Stats other = Stats.of(latencyOtherPods.values, latencyOtherPods.size, 1000);
                    r.add(l, "latOtherPodsP50", "emit→receive p50, subscribers on other pods", other.p50(), Kind.MS);
                    r.add(l, "latOtherPodsP99", "emit→receive p99, subscribers on other pods", other.p99(), Kind.MS);
                }
            }
            r.add(l, "lost", "lost", lost, Kind.COUNT);
            r.add(l, "closed", "subscribers closed by the gateway", closedSubs, Kind.COUNT);
            cpu.report(r, l, deliveries, "delivery", "deliveries");
            r.detail(l).put("duplicates", duplicates);
            r.detail(l).put("deliveriesPerSecByRound", perRound);
            r.detail(l).put("latencySamples", latency.size);
        } finally {
            List<Future<Void>> closing = new ArrayList<>();
            for (Sub s : subs) {
                closing.add(s.ws.close());
            }
            if (ownDriver != null) {
                closing.add(ownDriver.close());
            }
            try {
                await(Future.join(closing), 30);
            } catch (Exception e) {
                // best effort
            }
            wsc.close();
        }
    }

    /**
     * Subscribes to {@code sid}. A pod learns of a session another pod created from the bus, so until then it
     * answers {@code not_found}: that is retried every 5 ms until {@code deadline} ({@link System#nanoTime()}).
     */
    private static Future<JsonNode> subscribeWhenKnown(Context ctx, Ws ws, String sid, long deadline) {
        return ws.request("subscribe", Ws.fields().put("sessionId", sid)).compose(reply -> {
            if ("subscribed".equals(reply.path("type").asText())) {
                return Future.succeededFuture(reply);
            }
            if (!"not_found".equals(reply.path("code").asText()) || System.nanoTime() > deadline) {
                return Future.failedFuture("subscribe answered " + reply);
            }
            Promise<JsonNode> again = Promise.promise();
            ctx.owner().setTimer(5, x -> subscribeWhenKnown(ctx, ws, sid, deadline).onComplete(again));
            return again.future();
        });
    }

    /**
     * Waits for {@code f} as long as events still arrive: returns when it completes, when no subscriber has received
     * anything for {@code --stream-settle} seconds, or after {@code --timeout}.
     */
    private void awaitWhileDelivering(Future<?> f, List<Sub> subs) throws InterruptedException {
        long settle = (long) (cfg.decimal("stream-settle") * 1e9);
        long deadline = System.nanoTime() + timeoutSec * 1_000_000_000L;
        var done = f.toCompletionStage().toCompletableFuture();
        while (true) {
            try {
                done.get(20, TimeUnit.MILLISECONDS);
                return;
            } catch (ExecutionException e) {
                return;
            } catch (TimeoutException e) {
                long now = System.nanoTime();
                long latest = Long.MIN_VALUE;
                for (Sub s : subs) {
                    latest = Math.max(latest, s.lastNanos);
                }
                if (now - latest > settle || now > deadline) {
                    return;
                }
            }
        }
    }
    // ------------------------------------------------------------------ raw backend

    void backend() {
        if (backend == null) {
            return;
        }
        int n = cfg.integer("health-iterations");
        int tokens = cfg.integer("backend-tokens");
        int rounds = Math.max(1, cfg.integer("stream-rounds"));
        int warmTokens = cfg.integer("stream-warmup-tokens");
        Result r = new Result("backend", "Raw backend baseline: " + backend.baseUrl(), String.format(Locale.ROOT,
                "The backend's own GET /health (%d sequential requests after %d warm-up, one keep-alive connection), "
                        + "and a direct turn on ws /agent ([agent backend protocol](protocol.md#websocket-backends)): `start_turn` with `/sim tokens=%,d delay_ms=0`, "
                        + "frames counted until `message_stop` (%,d frames), %d measured turn%s after a warm-up turn. "
                        + "No gateway, no persistence: the floor under the gateway figures.",
                n, warmup, tokens, tokens + 5, rounds, rounds == 1 ? "" : "s"));
        String l = backend.label();
        try {
            log("backend: %s health", backend);
            Stats s = healthSequential(backend, n, r);
            r.add(l, "healthP50", "health p50", s.p50(), Kind.MS);
            r.add(l, "healthP95", "health p95", s.p95(), Kind.MS);
            r.add(l, "healthP99", "health p99", s.p99(), Kind.MS);
            r.add(l, "healthMean", "health mean", s.mean(), Kind.MS);
            log("backend: %s ws /agent turns", backend);
            Context ctx = newContext();
            WebSocketClient wsc = vertx.createWebSocketClient(wsOptions());
            ClientWebSocket ws = wsc.webSocket();
            BackendTurn[] current = new BackendTurn[1];
            ws.textMessageHandler(text -> {
                BackendTurn c = current[0];
                if (c != null) {
                    c.frame(text);
                }
            });
            await(onContext(ctx, () -> ws.connect(Ws.options(backend, "/agent", backend.apiKey()))));
            long frames = 0;
            double secs = 0;
            CpuMeter cpu = new CpuMeter("backend", backendPid == null ? List.of() : List.of(backendPid), null);
            Stats.Samples firstFrame = new Stats.Samples(16);
            List<Double> perRound = new ArrayList<>();
            for (int turn = 0; turn < (warmTokens > 0 ? 1 : 0) + rounds; turn++) {
                boolean measured = warmTokens <= 0 || turn > 0;
                int count = measured ? tokens : warmTokens;
                BackendTurn bt = new BackendTurn("load-" + turn + "-" + System.nanoTime());
                String op = Ws.JSON.createObjectNode().put("op", "start_turn").put("turnId", bt.turnId)
                        .put("sessionId", "load-client").put("tenantId", "load").put("userId", "load")
                        .<com.fasterxml.jackson.databind.node.ObjectNode>set("input", Ws.JSON.createObjectNode()
                                .put("text", "/sim tokens=" + count + " delay_ms=0"))
                        .<com.fasterxml.jackson.databind.node.ObjectNode>set("history", Ws.JSON.createArrayNode())
                        .toString();
                if (measured) {
                    cpu.start();
                }
                await(onContext(ctx, () -> {
                    current[0] = bt;
                    bt.t0 = System.nanoTime();
                    return ws.writeTextMessage(op);
                }));
                await(bt.done.future());
                if (measured) {
                    cpu.stop();
                }
                double elapsed = (bt.tEnd - bt.t0) / 1e9;
                log("  turn %d%s: %,d frames in %.3f s = %,.0f/s", turn, measured ? "" : " (warm-up)", bt.frames,
                        elapsed, bt.frames / elapsed);
                if (measured) {
                    frames += bt.frames;
                    secs += elapsed;
                    firstFrame.add(bt.tFirst - bt.t0);
                    perRound.add(bt.frames / elapsed);
                }
            }
            ws.close();
            wsc.close();
            r.add(l, "eventRate", "events/s (one turn, one socket)", frames / secs, Kind.RATE);
            r.add(l, "firstFrame", "start_turn → first frame (mean)",
                    Stats.ofNanos(firstFrame.values, firstFrame.size).mean(), Kind.MS);
            r.add(l, "turnTime", "turn time (mean)", secs * 1000 / Math.max(1, perRound.size()), Kind.MS);
            r.detail(l).put("eventsPerSecByRound", perRound);
            cpu.report(r, l, frames, "event", "events");
        } catch (Exception e) {
            fail(r, backend, e);
        }
        report.add(r);
    }

    /** A §3 turn sent straight to the backend; frames counted on the socket's event loop. */
    private static final class BackendTurn {
        final String turnId;
        final String prefix;
        final Promise<Void> done = Promise.promise();
        long t0;
        long tFirst;
        long tEnd;
        long frames;

        BackendTurn(String turnId) {
            this.turnId = turnId;
            this.prefix = "{\"turnId\":\"" + turnId + "\"";
        }

        void frame(String text) {
            if (!text.startsWith(prefix)) {
                return;
            }
            if (frames++ == 0) {
                tFirst = System.nanoTime();
            }
            if (text.indexOf("\"event\":\"message_stop\"", prefix.length()) > 0
                    || text.indexOf("\"event\":\"error\"", prefix.length()) > 0) {
                tEnd = System.nanoTime();
                done.tryComplete();
            }
        }
    }

    // ------------------------------------------------------------------ idle connections

    void idle() {
        int count = cfg.integer("idle-connections");
        int batch = Math.max(1, cfg.integer("idle-batch"));
        double hold = cfg.decimal("idle-hold");
        boolean gc = cfg.bool("idle-gc");
        long fdLimit = LoadClient.openFileLimit();
        int[] ports = LoadClient.ephemeralPorts();
        if (fdLimit > 0 && count + 256 > fdLimit) {
            log("idle: WARNING %,d connections need about as many file descriptors; this client's limit is %,d "
                    + "(scripts/load.sh raises it when allowed; or ulimit -n)", count, fdLimit);
        }
        if (ports != null && count > ports[1] - ports[0]) {
            log("idle: WARNING only %,d ephemeral ports (%d-%d) for %,d connections to one address",
                    ports[1] - ports[0], ports[0], ports[1], count);
        }
        Result r = new Result("idle", String.format(Locale.ROOT, "Idle authenticated connections: %,d", count),
                String.format(Locale.ROOT, "Opened in batches of %d concurrent connect+authenticate (frame), held %.0f s, "
                        + "then closed (client: open-file limit %s, ephemeral ports %s). Gateway memory from "
                        + "`--gateway-pid`: RSS (/proc/<pid>/status VmRSS) and heap in use (`jcmd <pid> "
                        + "GC.heap_info`%s), before opening and while holding; per connection = the difference ÷ "
                        + "connections.", batch, hold, fdLimit < 0 ? "unknown" : Long.toString(fdLimit),
                        ports == null ? "unknown" : ports[0] + "–" + ports[1],
                        gc ? ", each after `jcmd <pid> GC.run`" : ""));
        for (Target t : targets) {
            try {
                idleOne(t, count, batch, hold, gc, r);
            } catch (Exception e) {
                fail(r, t, e);
            }
        }
        report.add(r);
    }

    private void idleOne(Target t, int count, int batch, double hold, boolean gc, Result r) throws Exception {
        String l = t.label();
        ProcessProbe probe = t.pid() == null ? null : new ProcessProbe(t.pid());
        long rss0 = -1;
        long heap0 = -1;
        long fd0 = -1;
        if (probe != null) {
            log("idle: %s baseline memory (pid %d)", t, t.pid());
            heap0 = probe.heapUsedBytes(gc);
            rss0 = probe.rssBytes();
            fd0 = probe.openFiles();
        }
        WebSocketClient wsc = vertx.createWebSocketClient(wsOptions());
        List<Ws> open = new ArrayList<>();
        Stats.Samples connectNanos = new Stats.Samples(count);
        long failed = 0;
        String firstFailure = null;
        log("idle: %s opening %,d connections in batches of %d", t, count, batch);
        long start = System.nanoTime();
        Context[] ctxs = new Context[Math.max(1, cfg.integer("client-threads"))];
        for (int i = 0; i < ctxs.length; i++) {
            ctxs[i] = newContext();
        }
        try {
            for (int from = 0; from < count; from += batch) {
                List<Future<Long>> futures = new ArrayList<>();
                List<Ws[]> holders = new ArrayList<>();
                for (int i = from; i < Math.min(count, from + batch); i++) {
                    Ws[] holder = new Ws[1];
                    holders.add(holder);
                    futures.add(onContext(ctxs[i % ctxs.length], () -> {
                        long t0 = System.nanoTime();
                        return Ws.open(wsc, t, false).map(ws -> {
                            holder[0] = ws;
                            return System.nanoTime() - t0;
                        });
                    }));
                }
                try {
                    await(Future.join(futures));
                } catch (Exception e) {
                    // counted below
                }
                for (int i = 0; i < futures.size(); i++) {
                    Future<Long> f = futures.get(i);
                    if (f.succeeded()) {
                        open.add(holders.get(i)[0]);
                        connectNanos.add(f.result());
                    } else {
                        failed++;
                        if (firstFailure == null) {
                            firstFailure = String.valueOf(f.cause());
                        }
                    }
                }
                if ((from / batch) % 4 == 3) {
                    log("  %,d open, %,d failed", open.size(), failed);
                }
            }
            double openSecs = (System.nanoTime() - start) / 1e9;
            log("idle: %,d open, %,d failed in %.2f s; holding %.0f s", open.size(), failed, openSecs, hold);
            Thread.sleep((long) (hold * 1000));
            long stillOpen = open.stream().filter(w -> !w.isClosed()).count();
            r.add(l, "open", "connections held", stillOpen, Kind.COUNT);
            r.add(l, "failed", "failed to open", failed, Kind.COUNT);
            r.add(l, "openTime", "time to open all", openSecs, Kind.SECONDS);
            r.add(l, "openRate", "connect+auth rate", open.size() / openSecs, Kind.RATE);
            Stats cs = Stats.ofNanos(connectNanos.values, connectNanos.size);
            r.add(l, "connectP50", "connect+auth p50 (in batches)", cs.p50(), Kind.MS);
            r.add(l, "connectP99", "connect+auth p99 (in batches)", cs.p99(), Kind.MS);
            if (firstFailure != null) {
                r.detail(l).put("firstFailure", firstFailure);
            }
            if (probe != null) {
                long heap1 = probe.heapUsedBytes(gc);
                long rss1 = probe.rssBytes();
                long fd1 = probe.openFiles();
                if (rss0 > 0 && rss1 > 0) {
                    r.add(l, "rssBefore", "gateway RSS before", rss0, Kind.BYTES);
                    r.add(l, "rssAfter", "gateway RSS holding", rss1, Kind.BYTES);
                    r.add(l, "rssPerConn", "RSS per connection", (rss1 - rss0) / (double) Math.max(1, stillOpen), Kind.BYTES);
                }
                if (heap0 > 0 && heap1 > 0) {
                    r.add(l, "heapBefore", "gateway heap used before", heap0, Kind.BYTES);
                    r.add(l, "heapAfter", "gateway heap used holding", heap1, Kind.BYTES);
                    r.add(l, "heapPerConn", "heap per connection", (heap1 - heap0) / (double) Math.max(1, stillOpen), Kind.BYTES);
                } else {
                    r.detail(l).put("heap", "jcmd not available or failed");
                }
                if (fd0 >= 0 && fd1 >= 0) {
                    r.detail(l).put("gatewayOpenFilesBefore", fd0);
                    r.detail(l).put("gatewayOpenFilesHolding", fd1);
                }
            }
        } finally {
            log("idle: closing %,d connections", open.size());
            for (int from = 0; from < open.size(); from += batch) {
                List<Future<Void>> closing = new ArrayList<>();
                for (int i = from; i < Math.min(open.size(), from + batch); i++) {
                    Ws w = open.get(i);
                    closing.add(onContext(ctxs[i % ctxs.length], w::close));
                }
                try {
                    await(Future.join(closing), 60);
                } catch (Exception e) {
                    // best effort
                }
            }
            wsc.close();
        }
    }

    // ------------------------------------------------------------------ plumbing

    /** A new event-loop context; successive calls go round the client's event loops. */
    Context newContext() {
        return ((VertxInternal) vertx).createEventLoopContext();
    }

    static <T> Future<T> onContext(Context ctx, Supplier<Future<T>> action) {
        Promise<T> p = Promise.promise();
        ctx.runOnContext(v -> {
            try {
                action.get().onComplete(p);
            } catch (RuntimeException e) {
                p.fail(e);
            }
        });
        return p.future();
    }

    /** Runs {@code op(0..total-1)} one after the other on {@code ctx}; each returns the duration it measured. */
    static Future<long[]> loop(Context ctx, int total, IntFunction<Future<Long>> op) {
        Promise<long[]> done = Promise.promise();
        long[] out = new long[total];
        ctx.runOnContext(v -> new Runnable() {
            int i;

            @Override
            public void run() {
                if (i == total) {
                    done.tryComplete(out);
                    return;
                }
                int n = i;
                Future<Long> f;
                try {
                    f = op.apply(n);
                } catch (RuntimeException e) {
                    done.tryFail(e);
                    return;
                }
                f.onComplete(ar -> {
                    if (ar.failed()) {
                        done.tryFail(new IllegalStateException("iteration " + n + ": " + ar.cause().getMessage(), ar.cause()));
                        return;
                    }
                    out[n] = ar.result();
                    i++;
                    ctx.runOnContext(x -> run());
                });
            }
        }.run());
        return done.future();
    }

    <T> T await(Future<T> f) throws Exception {
        return await(f, timeoutSec);
    }

    static <T> T await(Future<T> f, long seconds) throws Exception {
        try {
            return f.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof Exception ex ? ex : new IllegalStateException(c);
        } catch (TimeoutException e) {
            throw new TimeoutException("no result within " + seconds + " s (--timeout)");
        }
    }

    static HttpClientOptions httpOptions(Target t) {
        return new HttpClientOptions().setDefaultHost(t.host()).setDefaultPort(t.port()).setSsl(t.ssl())
                .setKeepAlive(true).setTcpNoDelay(true).setConnectTimeout(10_000);
    }

    static WebSocketClientOptions wsOptions() {
        return new WebSocketClientOptions().setMaxConnections(1_000_000).setTcpNoDelay(true)
                .setConnectTimeout(30_000).setMaxMessageSize(8 * 1024 * 1024).setClosingTimeout(5);
    }

    private void fail(Result r, Target t, Exception e) {
        String msg = e.getClass().getSimpleName() + ": " + e.getMessage();
        log("FAILED %s on %s: %s", r.key, t, msg);
        r.failures.put(t.label(), msg);
    }

    static void log(String format, Object... args) {
        System.err.printf(Locale.ROOT, "[load %tT] %s%n", System.currentTimeMillis(), String.format(Locale.ROOT, format, args));
    }
}

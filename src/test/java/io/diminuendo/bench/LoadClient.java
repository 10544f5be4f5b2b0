package io.diminuendo.bench;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.diminuendo.bench.Report.Kind;
import io.diminuendo.bench.Report.Result;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;

/**
 * Load client for a running Diminuendo gateway (issues 4 and 13): /health latency and throughput, WebSocket
 * connect+authenticate, session creation, end-to-end streaming to K subscribers with persistence on, the raw
 * backend baseline and idle connections; optionally against a second gateway side by side. Markdown on stdout,
 * progress on stderr, JSON with {@code --json}. Not a test: run it with {@code scripts/load.sh} (see
 * docs/benchmarks.md).
 */
public final class LoadClient {
    private LoadClient() {
    }

    public static void main(String[] args) throws Exception {
        // The client runs in Maven's JVM, where Netty logs through SLF4J to the test classpath's JBoss LogManager,
        // which reports TRACE as enabled: the WebSocket frame decoder then formats a trace message for every frame
        // received (55 % of the client's CPU in the streaming benchmark). Plain JUL logs at INFO.
        io.netty.util.internal.logging.InternalLoggerFactory
                .setDefaultFactory(io.netty.util.internal.logging.JdkLoggerFactory.INSTANCE);
        if (args.length > 0 && args[0].equals("jfr-top")) {
            JfrTop.run(java.util.Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        LoadConfig cfg;
        try {
            cfg = LoadConfig.parse(args, System.getenv());
        } catch (LoadConfig.HelpRequested h) {
            System.out.print(LoadConfig.help());
            return;
        } catch (IllegalArgumentException e) {
            System.err.println("load client: " + e.getMessage());
            System.err.print(LoadConfig.help());
            System.exit(2);
            return;
        }
        int code = run(cfg);
        if (code != 0) {
            System.exit(code);
        }
    }

    static int run(LoadConfig cfg) throws Exception {
        Tokens.configure(cfg);
        if (cfg.has("client-warmup-url")) {
            warmClientElsewhere(cfg);
        }
        Launched launched = cfg.has("launch") ? Launched.start(cfg.get("launch"), cfg.readyUrl()) : null;
        try {
            return run(cfg, launched);
        } finally {
            if (launched != null) {
                launched.stop();
            }
        }
    }

    /** The client warm-up against {@code --client-warmup-url}, on a Vert.x instance of its own, before any target. */
    private static void warmClientElsewhere(LoadConfig cfg) throws Exception {
        Target decoy = Target.of("client warm-up", cfg.get("client-warmup-url"), cfg.get("api-key"), null);
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.max(1, cfg.integer("client-threads"))));
        try {
            new Benchmarks(vertx, cfg, new Report(List.of(decoy.label())), List.of(decoy), null).clientWarmup();
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get();
        }
    }

    private static int run(LoadConfig cfg, Launched launched) throws Exception {
        List<Target> targets = new ArrayList<>();
        Target base;
        String gatewayPid = launched != null && !cfg.has("gateway-pid") ? Long.toString(launched.pid())
                : cfg.get("gateway-pid");
        if (cfg.has("urls")) {
            List<String> urls = cfg.list("urls");
            base = Target.cluster(label(urls.get(0), "cluster") + (urls.size() > 1 ? " +" + (urls.size() - 1) + " pods" : ""),
                    urls, cfg.get("api-key"), gatewayPid);
        } else {
            base = Target.of(label(cfg.get("base-url"), "base"), cfg.get("base-url"), cfg.get("api-key"), gatewayPid);
        }
        targets.add(base);
        if (cfg.has("compare-url")) {
            String l = label(cfg.get("compare-url"), "compare");
            if (l.equals(base.label())) {
                l = "compare";
            }
            targets.add(Target.of(l, cfg.get("compare-url"), cfg.get("compare-api-key"), cfg.get("compare-pid")));
        }
        Target backend = cfg.has("backend-url")
                ? Target.of("backend " + label(cfg.get("backend-url"), "backend"), cfg.get("backend-url"), "", null)
                : null;
        List<String> benches = cfg.list("benchmarks");
        for (String b : benches) {
            if (!List.of("health", "connect", "session", "stream", "paced", "backend", "idle").contains(b)) {
                System.err.println("load client: unknown benchmark '" + b + "'");
                return 2;
            }
        }

        List<String> labels = new ArrayList<>();
        targets.forEach(t -> labels.add(t.label()));
        Report report = new Report(labels);
        Map<String, Object> meta = report.meta();
        meta.put("date", OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS).toString());
        for (Target t : targets) {
            if (t.clustered()) {
                for (Target pod : t.pods()) {
                    meta.put("target " + t.label() + ", pod " + pod.label(), pod.baseUrl() + " (version " + version(pod) + ")");
                }
            } else {
                meta.put("target " + t.label(), t.baseUrl() + " (version " + version(t) + ")");
            }
        }
        if (backend != null) {
            meta.put("raw backend", backend.baseUrl());
        }
        meta.put("client", String.format(Locale.ROOT, "JDK %s (%s), %d CPUs visible, %d event-loop thread(s), "
                + "open-file limit %d", System.getProperty("java.version"), System.getProperty("java.vm.name"),
                Runtime.getRuntime().availableProcessors(), cfg.integer("client-threads"), openFileLimit()));
        meta.put("warm-up", (cfg.decimal("client-warmup") > 0 ? cfg.get("client-warmup") + " s of /health and "
                + cfg.integer("client-warmup-rounds") + " connects and sessions against "
                + (cfg.has("client-warmup-url") ? cfg.get("client-warmup-url") + ", not a target," : "every target")
                + " first (client "
                + "warm-up), then " : "no client warm-up, ") + cfg.integer("warmup")
                + " iterations discarded before every latency measurement");
        meta.put("tokens", Tokens.describe());
        if (launched != null) {
            meta.put("launched", "`" + cfg.masked(cfg.get("launch")) + "` (pid " + launched.pid() + "): " + cfg.readyUrl() + " answered "
                    + String.format(Locale.ROOT, "%.0f ms", launched.readyMillis()) + " after the start; the first "
                    + "pass began right after");
        }
        meta.put("load average at start", loadAverage());
        meta.put("settings", cfg.describe());

        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.max(1, cfg.integer("client-threads")))
                .setWorkerPoolSize(2).setInternalBlockingPoolSize(2).setBlockedThreadCheckInterval(60_000));
        try {
            Benchmarks b = new Benchmarks(vertx, cfg, report, targets, backend);
            long started = System.nanoTime();
            if (!cfg.has("client-warmup-url")) {
                b.clientWarmup();
            }
            int passes = Math.max(1, cfg.integer("passes"));
            for (int pass = 1; pass <= passes; pass++) {
                report.pass(pass);
                if (passes > 1) {
                    Benchmarks.log("pass %d of %d", pass, passes);
                }
                if (benches.contains("health")) {
                    b.health();
                }
                if (benches.contains("connect")) {
                    b.connect();
                }
                if (benches.contains("session")) {
                    b.session();
                }
                if (benches.contains("stream")) {
                    b.stream();
                }
                if (benches.contains("paced")) {
                    new PacedLoad(b, vertx, cfg).run(targets, report);
                }
                if (benches.contains("backend")) {
                    b.backend();
                }
                if (benches.contains("idle")) {
                    b.idle();
                }
            }
            meta.put("load average at end", loadAverage());
            meta.put("duration", String.format(Locale.ROOT, "%.0f s", (System.nanoTime() - started) / 1e9));
            for (int pass = 1; pass <= passes; pass++) {
                summarize(report, targets, backend, cfg, pass, passes);
            }
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get();
        }

        System.out.print(report.markdown());
        System.out.flush();
        if (cfg.has("json")) {
            Path out = Path.of(cfg.get("json"));
            report.writeJson(out);
            Benchmarks.log("JSON written to %s", out.toAbsolutePath());
        }
        boolean failed = report.results().stream().anyMatch(r -> !r.failures.isEmpty());
        return failed ? 1 : 0;
    }

    /** host:port of a URL, as the column label. */
    static String label(String url, String fallback) {
        try {
            URI u = URI.create(url);
            return u.getHost() + (u.getPort() > 0 ? ":" + u.getPort() : "");
        } catch (RuntimeException e) {
            return fallback;
        }
    }

    private static String version(Target t) {
        Vertx v = Vertx.vertx();
        try {
            HttpClient c = v.createHttpClient(Benchmarks.httpOptions(t));
            String body = c.request(HttpMethod.GET, "/health").compose(HttpClientRequest::send)
                    .compose(r -> r.body()).map(Object::toString)
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            var n = Ws.JSON.readTree(body);
            return n.path("version").asText("?") + ", /health " + n.path("status").asText("?");
        } catch (Exception e) {
            return "unreachable: " + e.getMessage();
        } finally {
            v.close();
        }
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** The local port range for outgoing connections, or null. */
    static int[] ephemeralPorts() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim().split("\\s+");
            return new int[] {Integer.parseInt(f[0]), Integer.parseInt(f[1])};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    static long openFileLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                    return f[0].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(f[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    // ------------------------------------------------------------------ summary against the issue's targets

    static void summarize(Report report, List<Target> targets, Target backend, LoadConfig cfg, int pass,
            int passes) {
        String suffix = Report.passSuffix(pass);
        Map<String, Result> byKey = new java.util.LinkedHashMap<>();
        for (Result r : report.results()) {
            boolean ofThisPass = pass == 1 ? !r.key.contains("#") : r.key.endsWith(suffix);
            if (ofThisPass) {
                byKey.put(r.key.substring(0, r.key.length() - suffix.length()), r);
            }
        }
        if (passes > 1) {
            String[] blank = new String[targets.size()];
            Arrays.fill(blank, "");
            report.summary("**Pass " + pass + "**" + (pass == 1 ? " (first)" : ""), "", blank);
        }
        int conns = cfg.integer("health-connections");
        // the performance issue's targets (issue 13); a launched gateway's first pass has its own, looser ones
        boolean firstSeconds = pass == 1 && cfg.has("launch");
        row(report, targets, byKey.get("health"), "p50", "Health p50", Kind.MS, 0.2, true, "≤ 0.2 ms");
        row(report, targets, byKey.get("health"), "concurrent", "Health RPS (" + conns + " connections)", Kind.RATE,
                80_000, false, "≥ 80,000/s with wrk -t1 -c4 (this client is slower than wrk)");
        double connectGoal = firstSeconds ? 1.0 : 0.6;
        String connectText = firstSeconds ? "≤ 1.0 ms in the first pass" : "≤ 0.6 ms";
        row(report, targets, byKey.get("connect"), "frameP50", "Connect+auth p50 (frame)", Kind.MS, connectGoal, true,
                connectText);
        row(report, targets, byKey.get("connect"), "frameAuthP50", "… authenticate round trip p50", Kind.MS, 0.2, true,
                "≤ 0.2 ms");
        row(report, targets, byKey.get("connect"), "headerP50", "Connect+auth p50 (header)", Kind.MS, connectGoal, true,
                connectText);
        row(report, targets, byKey.get("session"), "p50", "Session create p50", Kind.MS, firstSeconds ? 0.3 : 0.18, true,
                firstSeconds ? "≤ 0.3 ms in the first pass" : "≤ 0.18 ms");
        row(report, targets, byKey.get("session"), "p95", "Session create p95", Kind.MS, firstSeconds ? Double.NaN : 0.5,
                true, firstSeconds ? "" : "≤ 0.5 ms");
        row(report, targets, byKey.get("session"), "p99", "Session create p99", Kind.MS, Double.NaN, true, "");
        row(report, targets, byKey.get("session"), "stddev", "Session create stddev", Kind.MS, Double.NaN, true, "");
        for (Map.Entry<String, Result> e : byKey.entrySet()) {
            Result r = e.getValue();
            if (e.getKey().startsWith("stream.k")) {
                int k = Integer.parseInt(e.getKey().substring(8));
                double goal = k == 1 ? 400_000 : k == 100 ? 1_300_000 : Double.NaN;
                String goalText = k == 1 ? "≥ 400,000/s after one warm-up turn"
                        : k == 100 ? "≥ 1,300,000/s after one warm-up turn" : "";
                row(report, targets, r, "deliveries", "End-to-end deliveries/s, K=" + k, Kind.RATE, goal, false, goalText);
                row(report, targets, r, "latP50", "Emit→receive p50, K=" + k, Kind.MS, Double.NaN, true, "");
                row(report, targets, r, "latP99", "Emit→receive p99, K=" + k, Kind.MS, Double.NaN, true, "");
                row(report, targets, r, "lost", "Lost events, K=" + k, Kind.COUNT, 0, true, "0");
                row(report, targets, r, "closed", "Subscribers cut, K=" + k, Kind.COUNT, 0, true, "0");
            }
        }
        Result paced = byKey.get("paced");
        if (paced != null) {
            row(report, targets, paced, "latP99", "Paced emit→receive p99", Kind.MS, 5.0, true,
                    "≤ 5 ms at 100 sessions × 200/s × 10 subscribers");
            row(report, targets, paced, "lost", "Paced lost deliveries", Kind.COUNT, 0, true, "0");
            row(report, targets, paced, "cut", "Paced subscribers cut", Kind.COUNT, 0, true, "0");
        }
        Result idle = byKey.get("idle");
        if (idle != null) {
            row(report, targets, idle, "open", "Idle connections held", Kind.COUNT, Double.NaN, false, "10,000");
            row(report, targets, idle, "heapAfter", "Heap holding them", Kind.BYTES, Double.NaN, true, "stated");
            row(report, targets, idle, "heapPerConn", "Heap per connection", Kind.BYTES, Double.NaN, true, "stated");
            row(report, targets, idle, "rssPerConn", "RSS per connection", Kind.BYTES, Double.NaN, true, "stated");
        }
        Result be = byKey.get("backend");
        if (be != null && backend != null) {
            backendRow(report, targets, be, backend, "healthP50", "Raw backend health p50", Kind.MS);
            backendRow(report, targets, be, backend, "eventRate", "Raw backend events/s (direct §3 turn)", Kind.RATE);
        }
    }

    private static void row(Report report, List<Target> targets, Result r, String id, String metric, Kind kind,
            double goal, boolean lowerIsBetter, String goalText) {
        if (r == null) {
            return;
        }
        String[] values = new String[targets.size()];
        boolean any = false;
        for (int i = 0; i < targets.size(); i++) {
            Double v = r.value(targets.get(i).label(), id);
            values[i] = v == null ? "—" : Report.format(v, kind);
            any |= v != null;
        }
        if (!any) {
            return;
        }
        Double base = r.value(targets.get(0).label(), id);
        String verdict = goalText;
        if (base != null && !Double.isNaN(goal) && !Double.isNaN(base)) {
            boolean met = lowerIsBetter ? base <= goal : base >= goal;
            if (met) {
                verdict += " — met";
            } else if (goal == 0) {
                verdict += " — missed";
            } else {
                double factor = lowerIsBetter ? base / goal : goal / base;
                verdict += String.format(Locale.ROOT, " — missed by %s (%.1fx)",
                        Report.format(Math.abs(base - goal), kind), factor);
            }
        }
        report.summary(metric, verdict, values);
    }

    private static void backendRow(Report report, List<Target> targets, Result r, Target backend, String id,
            String metric, Kind kind) {
        Double v = r.value(backend.label(), id);
        if (v == null) {
            return;
        }
        String[] values = new String[targets.size()];
        values[0] = Report.format(v, kind);
        for (int i = 1; i < values.length; i++) {
            values[i] = "";
        }
        report.summary(metric + " (" + backend.baseUrl() + ")", "floor for the gateway", values);
    }
}

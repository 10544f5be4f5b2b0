package io.diminuendo.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The load client's settings. Each one is looked up as a flag ({@code --base-url X} or {@code --base-url=X}),
 * then as an environment variable ({@code DIMINUENDO_BASE_URL}), then in a {@code .env} file in the working
 * directory (same names as the environment; {@code --env-file} picks another file), then its default.
 */
final class LoadConfig {

    /** name → [default, help]; the order is the order of {@code --help}. */
    static final Map<String, String[]> OPTIONS = new LinkedHashMap<>();

    static {
        opt("base-url", "http://localhost:8080", "gateway under test (http[s]://host:port)");
        opt("api-key", "diminuendo-dev-key", "token for the gateway (API key or JWT); the dev profile's key by default");
        opt("jwt-secret", "", "mint HS256 JWTs with this secret (the gateway's diminuendo.auth.jwt-secret) instead of "
                + "using --api-key, one per user of --jwt-users");
        opt("jwt-private-key", "", "PKCS#8 PEM file of an RSA or EC P-256 private key: mint RS256 or ES256 JWTs instead "
                + "(the gateway verifies them with the public key, diminuendo.auth.jwt-public-key-location)");
        opt("jwt-users", "1000", "users the minted JWTs are spread over (subjects load-0…, tenant load), one token each");
        opt("launch", "", "command that starts the gateway under test (run with bash -c; use exec so its pid is the "
                + "gateway's): the client waits for /health to answer, measures at once (no client warm-up unless set), "
                + "and stops it at the end");
        opt("ready-url", "", "with --launch: the URL whose 200 means ready (default <base-url>/health); e.g. the "
                + "readiness probe, http://localhost:9000/q/health/ready, which waits for the gateway's start-up warm-up");
        opt("passes", "1", "run the benchmarks this many times in a row; with --launch, the first pass is the gateway's "
                + "first seconds and the next ones show it warm");
        opt("urls", "", "the pods of one clustered gateway instead of --base-url, comma separated (http:// or ws:// "
                + "URLs): everything runs against the first, except the streaming benchmark's subscribers, which go round "
                + "the pods starting with the second (the turn runs on the first); --gateway-pid may then list the pods' pids "
                + "in the same order (CPU figures are their sum; memory is the first pod's)");
        opt("compare-url", "", "optional second gateway, measured side by side (speedup columns)");
        opt("compare-api-key", "", "token for the second gateway (default: --api-key)");
        opt("backend-url", "", "raw backend baseline, e.g. the standalone simulator http://localhost:8090 (its /health and ws /agent)");
        opt("gateway-pid", "", "pid of the gateway under test: RSS and heap for the idle-connection benchmark");
        opt("compare-pid", "", "pid of the second gateway");
        opt("backend-pid", "", "pid of the raw backend (its CPU use during the streaming and backend benchmarks)");
        opt("benchmarks", "health,connect,session,stream,backend,idle", "which benchmarks to run, comma separated");
        opt("warmup", "10", "warm-up iterations discarded before each latency measurement");
        opt("client-warmup", "5", "seconds of /health (plus --client-warmup-rounds connects and sessions) against "
                + "every target before anything is measured, so the client's own JIT warm-up does not favour the second "
                + "target (0: off)");
        opt("client-warmup-url", "", "run the client warm-up against this gateway (e.g. a second one started for the "
                + "purpose, same credentials) instead of the targets, before --launch starts the measured one: its "
                + "first pass then shows the gateway's first seconds rather than the client's own JIT warm-up");
        opt("client-warmup-rounds", "2000", "connects and create/delete_session round trips of the client warm-up; "
                + "they warm the gateway's JIT for those paths as well");
        opt("health-iterations", "1000", "sequential /health requests measured");
        opt("health-connections", "4", "keep-alive connections for the /health throughput run");
        opt("health-duration", "10", "seconds of the /health throughput run");
        opt("health-warmup-duration", "2", "seconds of throughput warm-up, discarded");
        opt("connect-iterations", "1000", "WebSocket connect+authenticate round trips measured (per auth mode)");
        opt("connect-auth", "frame,header", "auth modes: frame (authenticate frame), header (Authorization on the upgrade)");
        opt("session-iterations", "1000", "create_session round trips measured");
        opt("stream-subscribers", "1,100", "subscriber counts K of the streaming benchmark, comma separated");
        opt("stream-tokens", "50000,5000", "text deltas per turn for each K (same order; the last repeats)");
        opt("stream-rounds", "3", "measured turns per K (results pooled); one warm-up turn precedes them");
        opt("stream-warmup-tokens", "5000", "text deltas of the warm-up turn (0: none)");
        opt("stream-settle", "10", "seconds without any new delivery after which a subscriber still missing seqs "
                + "up to the turn's last one is given up on (they count as lost)");
        opt("paced-sessions", "100", "paced benchmark: sessions streaming at once");
        opt("paced-rate", "200", "paced benchmark: text deltas per second of each session");
        opt("paced-subscribers", "10", "paced benchmark: subscriber connections per session");
        opt("paced-warmup", "5", "paced benchmark: seconds of streaming before the measured window");
        opt("paced-duration", "10", "paced benchmark: seconds measured");
        opt("paced-backend", "paced", "paced benchmark: name of the gateway's websocket backend that points at this "
                + "client (diminuendo.backends.<name>.url=ws://<this host>:<paced-backend-port>/agent)");
        opt("paced-backend-port", "18790", "paced benchmark: port of the agent backend this client serves");
        opt("backend-tokens", "50000", "text deltas per turn sent straight to the backend");
        opt("idle-connections", "10000", "idle authenticated connections to open and hold");
        opt("idle-batch", "500", "connections opened concurrently per batch");
        opt("idle-hold", "3", "seconds to hold them before measuring memory");
        opt("idle-gc", "true", "run jcmd GC.run before each heap measurement (needs --gateway-pid and jcmd)");
        opt("client-threads", "2", "event-loop threads of the load client");
        opt("timeout", "180", "seconds allowed for one benchmark step before it is reported as failed");
        opt("cleanup", "true", "delete the sessions the benchmarks created");
        opt("json", "", "write the results as JSON to this file");
        opt("env-file", ".env", "file of KEY=VALUE lines read after the environment");
    }

    private static void opt(String name, String def, String help) {
        OPTIONS.put(name, new String[] {def, help});
    }

    private final Map<String, String> values = new LinkedHashMap<>();
    private final Map<String, String> sources = new LinkedHashMap<>();

    static String envName(String option) {
        return "DIMINUENDO_" + option.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    static LoadConfig parse(String[] args, Map<String, String> env) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.isBlank()) {
                continue;
            }
            if (a.equals("--help") || a.equals("-h")) {
                throw new HelpRequested();
            }
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + a + "' (flags are --name value)");
            }
            String name;
            String value;
            int eq = a.indexOf('=');
            if (eq > 0) {
                name = a.substring(2, eq);
                value = a.substring(eq + 1);
            } else {
                name = a.substring(2);
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("--" + name + " needs a value");
                }
                value = args[++i];
            }
            if (!OPTIONS.containsKey(name)) {
                throw new IllegalArgumentException("unknown flag --" + name + " (see --help)");
            }
            flags.put(name, value);
        }
        LoadConfig c = new LoadConfig();
        String envFile = flags.getOrDefault("env-file", env.getOrDefault(envName("env-file"), ".env"));
        Map<String, String> dotEnv = readDotEnv(Path.of(envFile));
        for (Map.Entry<String, String[]> o : OPTIONS.entrySet()) {
            String name = o.getKey();
            String e = envName(name);
            if (flags.containsKey(name)) {
                c.put(name, flags.get(name), "flag");
            } else if (env.containsKey(e)) {
                c.put(name, env.get(e), "env");
            } else if (dotEnv.containsKey(e)) {
                c.put(name, dotEnv.get(e), envFile);
            } else {
                c.put(name, o.getValue()[0], "default");
            }
        }
        if (c.get("compare-api-key").isEmpty()) {
            c.put("compare-api-key", c.get("api-key"), "= api-key");
        }
        return c;
    }

    private void put(String name, String value, String source) {
        values.put(name, value.trim());
        sources.put(name, source);
    }

    /** Reads KEY=VALUE lines (optional {@code export}, quotes, {@code #} comments); a missing file is empty. */
    static Map<String, String> readDotEnv(Path file) {
        Map<String, String> out = new LinkedHashMap<>();
        if (!Files.isRegularFile(file)) {
            return out;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
        }
        for (String raw : lines) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("export ")) {
                line = line.substring(7).strip();
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"")
                    || value.startsWith("'") && value.endsWith("'"))) {
                value = value.substring(1, value.length() - 1);
            }
            out.put(key, value);
        }
        return out;
    }

    static String help() {
        StringBuilder b = new StringBuilder("Diminuendo load client. Flags override DIMINUENDO_* environment variables, which\n"
                + "override a .env file in the working directory. Also: jfr-top <recording.jfr> [rows] summarises the CPU\n"
                + "samples of a JFR recording.\n\n");
        for (Map.Entry<String, String[]> o : OPTIONS.entrySet()) {
            b.append(String.format(Locale.ROOT, "  --%-24s %s%n  %-26s env %s, default '%s'%n", o.getKey(),
                    o.getValue()[1], "", envName(o.getKey()), o.getValue()[0]));
        }
        return b.toString();
    }

    String get(String name) {
        String v = values.get(name);
        if (v == null) {
            throw new IllegalStateException("no option " + name);
        }
        return v;
    }

    String source(String name) {
        return sources.get(name);
    }

    /** {@code --ready-url}, or the base URL's {@code /health}. */
    String readyUrl() {
        if (has("ready-url")) {
            return get("ready-url");
        }
        return Target.withoutTrailingSlash(get("base-url")) + "/health";
    }

    boolean has(String name) {
        return !get(name).isEmpty();
    }

    int integer(String name) {
        try {
            return Integer.parseInt(get(name).replace("_", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be an integer, got '" + get(name) + "'");
        }
    }

    double decimal(String name) {
        try {
            return Double.parseDouble(get(name));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a number, got '" + get(name) + "'");
        }
    }

    boolean bool(String name) {
        return Boolean.parseBoolean(get(name));
    }

    List<String> list(String name) {
        List<String> out = new ArrayList<>();
        for (String s : get(name).split(",")) {
            if (!s.isBlank()) {
                out.add(s.strip());
            }
        }
        return out;
    }

    int[] ints(String name) {
        return list(name).stream().mapToInt(s -> {
            try {
                return Integer.parseInt(s.replace("_", ""));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--" + name + " must be integers, got '" + get(name) + "'");
            }
        }).toArray();
    }

    /** Every setting with where it came from (API keys and the JWT secret masked, also inside --launch). */
    Map<String, String> describe() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String k : values.keySet()) {
            String v = values.get(k);
            if ((k.endsWith("api-key") || k.equals("jwt-secret")) && v.length() > 4) {
                v = v.substring(0, 4) + "…";
            } else if (k.equals("launch")) {
                v = masked(v);
            }
            out.put(k, v + " (" + sources.get(k) + ")");
        }
        return out;
    }

    /** {@code text} with the values of --jwt-secret and the API keys replaced, e.g. in a launch command line. */
    String masked(String text) {
        String out = text;
        for (String k : values.keySet()) {
            String v = values.get(k);
            if ((k.endsWith("api-key") || k.equals("jwt-secret")) && v.length() > 4) {
                out = out.replace(v, v.substring(0, 4) + "…");
            }
        }
        return out;
    }

    static final class HelpRequested extends RuntimeException {
        HelpRequested() {
            super(null, null, false, false);
        }
    }

    @Override
    public String toString() {
        return Arrays.toString(values.entrySet().toArray());
    }
}

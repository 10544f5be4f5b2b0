package io.diminuendo.support;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The packaged gateway ({@code target/quarkus-app/quarkus-run.jar}) run as a real child process in the prod
 * profile, for tests that stop it with SIGTERM or SIGKILL and start it again on the same database file.
 */
public final class GatewayProcess implements AutoCloseable {
    public static final String API_KEY = "it-key-0123456789";
    /** Generous: the jar starts in about 2 s, but far slower on a machine saturated by parallel builds. */
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(120);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final Process process;
    private final int port;
    private final Path log;
    /** Where {@code /q/health/*} and {@code /q/metrics} are served (the management interface). */
    private final int managementPort;

    private GatewayProcess(Process process, int port, int managementPort, Path log) {
        this.process = process;
        this.port = port;
        this.managementPort = managementPort;
        this.log = log;
    }

    /**
     * Starts the jar on a free port with {@code db} as its store and an admin API key ({@link #API_KEY}, user
     * {@code ivan}, tenant {@code it}) and the start-up warm-up off, and waits until {@code /health} answers.
     */
    public static GatewayProcess start(Path db, String name, String... extraProperties)
            throws IOException, InterruptedException {
        return start(db, name, freePort(), extraProperties);
    }

    /** As {@link #start(Path, String, String...)}, on {@code port}: a restart that clients find at the same address. */
    public static GatewayProcess start(Path db, String name, int port, String... extraProperties)
            throws IOException, InterruptedException {
        List<String> props = new ArrayList<>(properties(db));
        props.addAll(List.of(extraProperties));
        GatewayProcess g = launch(name, port, props);
        g.awaitHealthy(STARTUP_TIMEOUT);
        return g;
    }

    /** What {@link #start} gives every gateway: {@code db} as its store, the {@link #API_KEY} and no warm-up. */
    public static List<String> properties(Path db) {
        return List.of("-Ddiminuendo.store.path=" + db,
                "-Ddiminuendo.auth.api-keys.it.key=" + API_KEY,
                "-Ddiminuendo.auth.api-keys.it.user-id=ivan",
                "-Ddiminuendo.auth.api-keys.it.tenant-id=it",
                "-Ddiminuendo.auth.api-keys.it.scopes=sessions:admin",
                // the tests measure and kill processes: no warm-up traffic beside theirs (WarmupTest covers it)
                "-Ddiminuendo.warmup.enabled=false");
    }

    /** Starts the standalone simulator ({@code simulator} profile) on {@code port} and waits until it answers. */
    public static GatewayProcess startSimulator(String name, int port) throws IOException, InterruptedException {
        GatewayProcess g = launch(name, port, List.of("-Dquarkus.profile=simulator", "-D%simulator.quarkus.http.port=" + port,
                "-D%simulator.diminuendo.store.path=" + Path.of("target", "it-data", name + "-" + System.nanoTime() + ".db").toAbsolutePath()));
        g.awaitHealthy(STARTUP_TIMEOUT);
        return g;
    }

    /** Starts the jar with exactly {@code properties} (plus a free port) and does not wait for it. */
    public static GatewayProcess launch(String name, List<String> properties) throws IOException {
        return launch(name, freePort(), properties);
    }

    private static GatewayProcess launch(String name, int port, List<String> properties) throws IOException {
        return launch(name, ProcessHandle.current().info().command().orElse("java"), port, properties);
    }

    /** Starts the jar with another {@code java} (a newer JDK), exactly {@code properties} and a free port; no wait. */
    public static GatewayProcess launchWith(String java, String name, List<String> properties) throws IOException {
        return launch(name, java, freePort(), properties);
    }

    private static GatewayProcess launch(String name, String java, int port, List<String> properties)
            throws IOException {
        String jar = System.getProperty("diminuendo.app.jar", "target/quarkus-app/quarkus-run.jar");
        if (!Files.exists(Path.of(jar))) {
            throw new IllegalStateException("packaged gateway not found at " + jar + "; run ./mvnw verify");
        }
        Path log = Path.of("target", "it-logs", name + ".log");
        Files.createDirectories(log.getParent());
        Files.deleteIfExists(log);
        int managementPort = freePort();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-XX:+IgnoreUnrecognizedVMOptions", "-Dquarkus.http.port=" + port,
                "-Dquarkus.management.port=" + managementPort));
        cmd.addAll(properties);
        cmd.addAll(List.of("-jar", jar));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        return new GatewayProcess(p, port, managementPort, log);
    }

    /** Waits for the process to exit by itself and returns its exit code. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("gateway still running after " + timeout + "; see " + log);
        }
        return process.exitValue();
    }

    /** A path for a new database file under {@code target/it-data} (the directory is created, the file is not). */
    public static Path freshDb() throws IOException {
        Path db = Path.of("target", "it-data", UUID.randomUUID() + ".db").toAbsolutePath();
        Files.createDirectories(db.getParent());
        return db;
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Waits until {@code /health} answers 200; fails if the process exits first or {@code timeout} passes. */
    public void awaitHealthy(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("gateway exited during start-up; see " + log);
            }
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/health"))
                        .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("gateway not healthy within " + timeout + "; see " + log);
    }

    public long pid() {
        return process.pid();
    }

    public int port() {
        return port;
    }

    /** The management interface's port: {@code /q/health/*}, {@code /q/metrics}. */
    public int managementPort() {
        return managementPort;
    }

    /** GET {@code path} on this process (a {@code /q/} path on its management port); returns the body. */
    public String get(String path) throws IOException, InterruptedException {
        int to = path.startsWith("/q/") ? managementPort : port;
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + to + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The sum of the series of meter {@code name} whose labels include {@code label} (all when empty), as {@link Metrics#sumIn}. */
    public double metric(String name, String label) throws IOException, InterruptedException {
        return Metrics.sumIn(get("/q/metrics"), name, label);
    }

    /** The process's heap in use right after a full GC ({@code jcmd <pid> GC.run}), in bytes. */
    public double heapAfterGc() throws IOException, InterruptedException {
        new ProcessBuilder("jcmd", Long.toString(pid()), "GC.run").redirectErrorStream(true).start().waitFor();
        return metric("jvm_memory_used_bytes", "area=\"heap\"");
    }

    /** The process's resident set size ({@code VmRSS} in {@code /proc/<pid>/status}), in bytes. */
    public long rss() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS for process " + pid());
    }

    public URI ws() {
        return URI.create("ws://localhost:" + port + "/ws");
    }

    /**
     * Sends SIGTERM and waits for the process to end. Returns true when the JVM exited as it does after its
     * shutdown hooks ran (0, or 143 = 128 + SIGTERM) and Quarkus logged a completed stop.
     */
    public boolean stop() throws InterruptedException, IOException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new IllegalStateException("gateway did not stop within 30 s after SIGTERM; see " + log);
        }
        int code = process.exitValue();
        return (code == 0 || code == 143) && log().contains("stopped in");
    }

    /** Sends SIGKILL: no shutdown hook runs. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }

    public String log() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}

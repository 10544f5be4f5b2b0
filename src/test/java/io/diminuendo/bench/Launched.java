package io.diminuendo.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A gateway the load client started itself ({@code --launch}), so that its first pass measures the gateway's first
 * seconds: the command runs with {@code bash -c} (its output goes to a temporary log file), and {@link #start} returns
 * as soon as the ready URL ({@code /health}, or {@code --ready-url} such as the readiness probe) answers 200, polled
 * every 2 ms.
 */
final class Launched {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

    private final Process process;
    private final double readyMillis;
    private final Path log;

    private Launched(Process process, double readyMillis, Path log) {
        this.process = process;
        this.readyMillis = readyMillis;
        this.log = log;
    }

    static Launched start(String command, String readyUrl) throws IOException, InterruptedException {
        Path log = Files.createTempFile("diminuendo-launched-", ".log");
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder("bash", "-c", command).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        Benchmarks.log("launched the gateway (pid %d, output in %s)", p.pid(), log);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(200)).build();
        HttpRequest health = HttpRequest.newBuilder(URI.create(readyUrl))
                .timeout(Duration.ofSeconds(2)).build();
        long deadline = t0 + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("the launched gateway exited with " + p.exitValue() + "; see " + log);
            }
            try {
                if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    double ms = (System.nanoTime() - t0) / 1e6;
                    Benchmarks.log("launched gateway ready after %.0f ms", ms);
                    return new Launched(p, ms, log);
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(2);
        }
        p.destroyForcibly();
        throw new IllegalStateException("the launched gateway did not answer " + readyUrl + " within " + READY_TIMEOUT
                + "; see " + log);
    }

    long pid() {
        return process.pid();
    }

    double readyMillis() {
        return readyMillis;
    }

    /** SIGTERM, then SIGKILL after 30 s. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        Benchmarks.log("stopped the launched gateway (exit %d; output in %s)", process.exitValue(), log);
    }
}

package io.diminuendo.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Runs a Node.js test script of the project ({@code src/test/agui}, {@code src/test/console}) against the gateway
 * under test: {@code node <script> <scenario> <args as JSON>}, one process per scenario. The script prints its
 * result as the last line, a JSON object. It may ask the test for something in the middle (drop a connection,
 * restart the gateway): it prints {@code HOOK <json>} and waits for one line on its standard input, the JSON the
 * test's hook function returned. The build installs the npm packages first; without Node.js the tests fail saying so.
 */
public final class NodeScript {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HOOK = "HOOK ";

    private final Path dir;
    private final String script;

    public NodeScript(Path dir, String script) {
        this.dir = dir;
        this.script = script;
    }

    /** Fails with a clear message unless {@code node} runs and {@code module} is installed in the script's folder. */
    public void requireInstalled(String module, String installer) {
        String version;
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            version = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError("`node --version` failed: " + version);
            }
        } catch (IOException e) {
            throw new AssertionError("These tests need Node.js 20+ on the PATH (`node` not found: " + e.getMessage()
                    + "). Install Node.js, or skip the tests with -DskipTests.", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        if (!Files.isDirectory(dir.resolve("node_modules").resolve(module))) {
            throw new AssertionError(module + " is not installed in " + dir + " (Node.js " + version + "): the build "
                    + "installs it before the tests (" + installer + "); run it, or run the tests through Maven");
        }
    }

    /** Runs {@code scenario} without hooks. */
    public JsonNode run(String scenario, Map<String, Object> args, long timeoutSeconds) {
        return run(scenario, args, timeoutSeconds, hook -> {
            throw new AssertionError("scenario " + scenario + " asked for a hook the test does not offer: " + hook);
        });
    }

    /**
     * Runs {@code scenario} with {@code args} and returns the JSON object it printed last; {@code hooks} answers the
     * script's requests (on a thread of its own, while the script waits).
     */
    public JsonNode run(String scenario, Map<String, Object> args, long timeoutSeconds,
            Function<JsonNode, Object> hooks) {
        Path stderr = null;
        try {
            stderr = Files.createTempFile("node-" + scenario, ".err");
            ProcessBuilder builder = new ProcessBuilder(List.of("node", script, scenario, JSON.writeValueAsString(args)))
                    .directory(dir.toFile()).redirectError(stderr.toFile());
            // the AG-UI client must be free to warn: that is one of the things its tests check
            builder.environment().remove("SUPPRESS_TRANSFORMATION_WARNINGS");
            Process p = builder.start();
            List<String> lines = new ArrayList<>();
            List<Throwable> hookFailures = new ArrayList<>();
            Thread reader = new Thread(() -> read(p, lines, hooks, hookFailures), "node-" + scenario);
            reader.setDaemon(true);
            reader.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                reader.join(2000);
                throw new AssertionError("scenario " + scenario + " did not finish in " + timeoutSeconds
                        + " s; output: " + output(lines) + "\nstderr: " + Files.readString(stderr));
            }
            reader.join(5000);
            if (!hookFailures.isEmpty()) {
                throw new AssertionError("a hook of scenario " + scenario + " failed", hookFailures.get(0));
            }
            String last;
            synchronized (lines) {
                last = lines.isEmpty() ? "" : lines.get(lines.size() - 1);
            }
            if (p.exitValue() != 0 || !last.startsWith("{")) {
                throw new AssertionError("scenario " + scenario + " failed (exit " + p.exitValue() + "): "
                        + output(lines) + "\nstderr: " + Files.readString(stderr));
            }
            return JSON.readTree(last);
        } catch (IOException e) {
            throw new AssertionError("cannot run scenario " + scenario + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } finally {
            if (stderr != null) {
                try {
                    Files.deleteIfExists(stderr);
                } catch (IOException e) {
                    // a temp file left behind is harmless
                }
            }
        }
    }

    private static void read(Process p, List<String> lines, Function<JsonNode, Object> hooks,
            List<Throwable> hookFailures) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                Writer out = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith(HOOK)) {
                    Object answer;
                    try {
                        answer = hooks.apply(JSON.readTree(line.substring(HOOK.length())));
                    } catch (Throwable t) {
                        synchronized (hookFailures) {
                            hookFailures.add(t);
                        }
                        answer = Map.of("error", String.valueOf(t));
                    }
                    out.write(JSON.writeValueAsString(answer == null ? Map.of() : answer) + "\n");
                    out.flush();
                } else {
                    synchronized (lines) {
                        lines.add(line.strip());
                    }
                }
            }
        } catch (IOException e) {
            // the process ended; its exit code tells
        }
    }

    private static String output(List<String> lines) {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }
}

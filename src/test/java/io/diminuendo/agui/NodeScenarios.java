package io.diminuendo.agui;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Runs a scenario of {@code src/test/agui/scenarios.mjs}: the real {@code @ag-ui/client} {@code HttpAgent} in
 * Node.js against the gateway under test, one process per scenario. The build installs the npm packages first
 * ({@code src/test/agui/install.sh}); without Node.js the tests fail saying so.
 */
final class NodeScenarios {
    static final Path DIR = Path.of("src", "test", "agui");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long TIMEOUT_SECONDS = 60;

    private NodeScenarios() {
    }

    /** Fails with a clear message unless {@code node} runs and the client package is installed. */
    static void requireNode() {
        String version;
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            version = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError("`node --version` failed: " + version);
            }
        } catch (IOException e) {
            throw new AssertionError("The AG-UI client tests need Node.js 20+ on the PATH (`node` not found: "
                    + e.getMessage() + "). Install Node.js, or skip the tests with -DskipTests.", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        if (!Files.isDirectory(DIR.resolve("node_modules").resolve("@ag-ui").resolve("client"))) {
            throw new AssertionError("@ag-ui/client is not installed in " + DIR + " (Node.js " + version
                    + "): the build installs it before the tests (src/test/agui/install.sh); run it, or run the tests"
                    + " through Maven");
        }
    }

    /** Runs {@code scenario} with {@code args} (as JSON) and returns the JSON object it printed last. */
    static JsonNode run(String scenario, Map<String, Object> args) {
        Path stdout = null;
        Path stderr = null;
        try {
            stdout = Files.createTempFile("agui-" + scenario, ".out");
            stderr = Files.createTempFile("agui-" + scenario, ".err");
            ProcessBuilder builder = new ProcessBuilder(List.of("node", "scenarios.mjs", scenario,
                    JSON.writeValueAsString(args))).directory(DIR.toFile()).redirectOutput(stdout.toFile())
                    .redirectError(stderr.toFile());
            // the client must be free to warn: that is one of the things the tests check
            builder.environment().remove("SUPPRESS_TRANSFORMATION_WARNINGS");
            Process p = builder.start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("scenario " + scenario + " did not finish in " + TIMEOUT_SECONDS + " s; output: "
                        + Files.readString(stdout) + "\nstderr: " + Files.readString(stderr));
            }
            String text = Files.readString(stdout).strip();
            String last = text.substring(text.lastIndexOf('\n') + 1);
            if (p.exitValue() != 0 || !last.startsWith("{")) {
                throw new AssertionError("scenario " + scenario + " failed (exit " + p.exitValue() + "): " + text
                        + "\nstderr: " + Files.readString(stderr));
            }
            return JSON.readTree(last);
        } catch (IOException e) {
            throw new AssertionError("cannot run scenario " + scenario + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } finally {
            delete(stdout);
            delete(stderr);
        }
    }

    private static void delete(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // a temp file left behind is harmless
            }
        }
    }
}

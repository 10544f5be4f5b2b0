package io.diminuendo.agui;

import java.nio.file.Path;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.NodeScript;

/**
 * Runs a scenario of {@code src/test/agui/scenarios.mjs}: the real {@code @ag-ui/client} {@code HttpAgent} in
 * Node.js against the gateway under test, one process per scenario. The build installs the npm packages first
 * ({@code src/test/agui/install.sh}); without Node.js the tests fail saying so.
 */
final class NodeScenarios {
    private static final NodeScript SCRIPT = new NodeScript(Path.of("src", "test", "agui"), "scenarios.mjs");
    private static final long TIMEOUT_SECONDS = 60;

    private NodeScenarios() {
    }

    /** Fails with a clear message unless {@code node} runs and the client package is installed. */
    static void requireNode() {
        SCRIPT.requireInstalled("@ag-ui/client", "src/test/agui/install.sh");
    }

    /** Runs {@code scenario} with {@code args} (as JSON) and returns the JSON object it printed last. */
    static JsonNode run(String scenario, Map<String, Object> args) {
        return SCRIPT.run(scenario, args, TIMEOUT_SECONDS);
    }
}

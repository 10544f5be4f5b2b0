package io.diminuendo.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.connection.ClientConnection;
import io.diminuendo.connection.ConnectionRegistry;
import io.diminuendo.protocol.CloseCode;
import io.diminuendo.support.NodeScript;

/** The Node.js scripts of {@code src/test/console}, installed by {@code src/test/console/install.sh}. */
final class ConsoleScripts {
    static final Path DIR = Path.of("src", "test", "console");
    static final String INSTALLER = "src/test/console/install.sh";
    /** diminuendo-client.js with the ws package. */
    static final NodeScript CLIENT = new NodeScript(DIR, "client.mjs");
    /** The console in headless Chromium, driven by playwright-core. */
    static final NodeScript BROWSER = new NodeScript(DIR, "console.mjs");

    private ConsoleScripts() {
    }

    /** A scenario's arguments: {@code fixed}, then the name/value pairs of {@code kv}. */
    static Map<String, Object> args(Map<String, Object> fixed, Object... kv) {
        Map<String, Object> args = new LinkedHashMap<>(fixed);
        for (int i = 0; i < kv.length; i += 2) {
            args.put((String) kv[i], kv[i + 1]);
        }
        return args;
    }

    /** The scripts' one request: the server closes every connection of a user, as a pod going away does. */
    static Function<JsonNode, Object> dropHook(ConnectionRegistry connections) {
        return request -> {
            assertThat(request.path("hook").asText()).isEqualTo("drop");
            return Map.of("closed", dropConnectionsOf(connections, request.path("user").asText()));
        };
    }

    static int dropConnectionsOf(ConnectionRegistry connections, String user) {
        List<ClientConnection> mine = new ArrayList<>();
        for (ClientConnection c : connections.all()) {
            if (c.identity() != null && c.identity().userId().equals(user)) {
                mine.add(c);
            }
        }
        mine.forEach(c -> c.close(CloseCode.SHUTTING_DOWN));
        return mine.size();
    }
}

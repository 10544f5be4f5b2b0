package io.diminuendo.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.GatewayProcess;

/**
 * diminuendo-client.js across an unclean restart of the packaged gateway: it is killed (-9) in the middle of a
 * turn and started again on the same store and port. The session's epoch changes, and the client tells its caller
 * (onReset) and reads the stream again from seq 1 instead of resuming after a seq that may have been reused.
 */
class ClientLibraryIT {
    @BeforeAll
    static void installed() {
        ConsoleScripts.CLIENT.requireInstalled("ws", ConsoleScripts.INSTALLER);
    }

    @Test
    void anEpochChangeIsSurfacedAndTheStreamIsReadAgainFromTheStart() throws Exception {
        Path db = GatewayProcess.freshDb();
        int port = GatewayProcess.freePort();
        GatewayProcess[] gateway = {GatewayProcess.start(db, "client-epoch-1", port)};
        try {
            JsonNode r = ConsoleScripts.CLIENT.run("epoch", Map.of("base", "http://localhost:" + port, "key",
                    GatewayProcess.API_KEY, "tokens", 5000), 240, request -> {
                        assertThat(request.path("hook").asText()).isEqualTo("restart");
                        try {
                            gateway[0].kill();
                            gateway[0] = GatewayProcess.start(db, "client-epoch-2", port);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                        return Map.of("restarted", true);
                    });

            assertThat(r.path("resets")).hasSize(1);
            JsonNode reset = r.path("resets").get(0);
            assertThat(reset.path("reason").asText()).isEqualTo("epoch_changed");
            assertThat(reset.path("previousEpoch").asText()).isEqualTo(r.path("epochBefore").asText());
            assertThat(reset.path("epoch").asText()).isNotEqualTo(r.path("epochBefore").asText())
                    .isEqualTo(r.path("epochAfter").asText());
            assertThat(reset.path("eventsBefore").asInt()).as("events shown before the restart").isGreaterThan(50);
            // after the reset: the stored stream from seq 1, each once, ending with the turn the restart ended
            ClientLibraryTest.assertContiguousFromOne(r);
            assertThat(r.path("terminal").path("kind").asText()).isEqualTo("turn_failed");
            assertThat(r.path("terminal").path("data").path("code").asText()).isEqualTo("gateway_restarted");
            assertThat(r.path("reconnects").asInt()).isGreaterThanOrEqualTo(1);
        } finally {
            gateway[0].close();
        }
    }
}

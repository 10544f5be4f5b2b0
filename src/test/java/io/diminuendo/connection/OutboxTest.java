package io.diminuendo.connection;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.diminuendo.support.Keys;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The outbox reaches the Vert.x socket under websockets-next (internals, reached by reflection). If a Quarkus
 * upgrade moves them, the gateway still works through the slow fallback; this test is what notices.
 */
@QuarkusTest
class OutboxTest {
    @TestHTTPResource("/ws")
    URI ws;

    @Inject
    ConnectionRegistry connections;

    @Test
    void connectionsWriteStraightToTheVertxSocket() {
        try (WsClient client = WsClient.authenticated(ws, Keys.ALICE)) {
            assertThat(client.request("ping").path("type").asText()).isEqualTo("pong");
            assertThat(connections.all()).isNotEmpty()
                    .allSatisfy(c -> assertThat(c.directWrites()).as("connection %s writes directly", c.id()).isTrue());
        }
    }
}

package io.diminuendo.connection;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import jakarta.inject.Inject;

import io.diminuendo.config.GatewayConfig;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.auth.Identity;
import io.diminuendo.session.SessionRegistry;
import io.diminuendo.session.SessionState;
import io.diminuendo.support.Keys;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusMock;
import io.quarkus.test.junit.QuarkusTest;

/** What a request logs carries its connection and session ids in the MDC (the prod JSON logs print them). */
@QuarkusTest
class LogContextTest {

    @TestHTTPResource("/ws")
    URI ws;

    private final List<ExtLogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            ExtLogRecord r = (ExtLogRecord) record;
            r.copyMdc();
            records.add(r);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @Inject
    GatewayConfig config;

    @BeforeEach
    void captureDispatcherLogs() {
        Logger.getLogger(RequestDispatcher.class.getName()).addHandler(capture);
        QuarkusMock.installMockForType(new SessionRegistry(null, null, null, null, null, config, null, null) {
            @Override
            public SessionState get(Identity who, String sessionId) {
                throw new IllegalStateException("boom while reading " + sessionId);
            }
        }, SessionRegistry.class);
    }

    @AfterEach
    void stopCapturing() {
        Logger.getLogger(RequestDispatcher.class.getName()).removeHandler(capture);
    }

    @Test
    void anInternalErrorIsLoggedWithTheConnectionAndSessionIds() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String connectionId = alice.request("authenticate", "token", Keys.ALICE).path("connectionId").asText();
            JsonNode reply = alice.request("get_session", "sessionId", "s-log-context");
            assertThat(reply.path("code").asText()).isEqualTo("internal");

            assertThat(records).anySatisfy(r -> {
                assertThat(r.getMessage()).isEqualTo("request failed");
                assertThat(r.getMdc(RequestDispatcher.MDC_CONNECTION_ID)).isEqualTo(connectionId);
                assertThat(r.getMdc(RequestDispatcher.MDC_SESSION_ID)).isEqualTo("s-log-context");
            });
        }
    }
}

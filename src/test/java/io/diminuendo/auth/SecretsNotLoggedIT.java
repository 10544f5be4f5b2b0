package io.diminuendo.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import io.diminuendo.support.GatewayProcess;
import io.diminuendo.support.WsClient;

/** Secrets and tokens never reach the log, whether authentication succeeds or fails, with debug logging on. */
class SecretsNotLoggedIT {
    private static final String SECRET = "it-hs256-secret-" + UUID.randomUUID();

    @Test
    void noKeySecretOrTokenAppearsInTheLog() throws Exception {
        Path db = GatewayProcess.freshDb();
        String goodJwt = TestTokens.hs256(SECRET.getBytes(StandardCharsets.UTF_8),
                Map.of("sub", "logan", "tid", "it", "exp", System.currentTimeMillis() / 1000 + 600));
        String forgedJwt = TestTokens.hs256("not-the-secret-not-the-secret-not-the".getBytes(StandardCharsets.UTF_8),
                Map.of("sub", "mallory", "tid", "it"));
        String expiredJwt = TestTokens.hs256(SECRET.getBytes(StandardCharsets.UTF_8),
                Map.of("sub", "old", "tid", "it", "exp", 1000));
        String wrongKey = "wrong-api-key-" + UUID.randomUUID();
        String log;
        try (GatewayProcess gw = GatewayProcess.start(db, "secrets", "-Ddiminuendo.auth.jwt-secret=" + SECRET,
                "-Dquarkus.log.category.\"io.diminuendo\".level=DEBUG")) {
            try (WsClient c = WsClient.authenticated(gw.ws(), GatewayProcess.API_KEY)) {
                c.createSession("logged?");
            }
            try (WsClient c = WsClient.authenticated(gw.ws(), goodJwt)) {
                c.request("ping");
            }
            for (String bad : List.of(forgedJwt, expiredJwt, wrongKey)) {
                try (WsClient c = WsClient.connect(gw.ws())) {
                    c.request("authenticate", "token", bad);
                    c.awaitClose();
                }
                try (WsClient c = WsClient.connectWithHeader(gw.ws(), bad)) {
                    c.awaitClose();
                }
                HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://localhost:" + gw.port() + "/api/sessions"))
                        .header("Authorization", "Bearer " + bad).build(), HttpResponse.BodyHandlers.ofString());
            }
            gw.stop();
            log = gw.log();
        }
        assertThat(log).contains("graceful stop");
        for (String secret : List.of(SECRET, GatewayProcess.API_KEY, goodJwt, forgedJwt, expiredJwt, wrongKey)) {
            assertThat(log).doesNotContain(secret);
        }
        for (String jwt : List.of(goodJwt, forgedJwt, expiredJwt)) {
            assertThat(log).doesNotContain(jwt.substring(jwt.lastIndexOf('.') + 1));
        }
    }
}

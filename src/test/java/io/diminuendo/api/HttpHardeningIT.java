package io.diminuendo.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.support.GatewayProcess;
import io.diminuendo.support.WsClient;

/**
 * HTTP as a careless or hostile client uses it, on the packaged gateway with its production profile: every error
 * status has a JSON {@code {code, message}} body, a body that is not JSON is {@code 415}, one client's flood of REST
 * requests is rate-limited with {@code 429} and {@code Retry-After}, requests without a {@code Host} header are
 * refused without an ERROR in the log, and an oversized token is refused as unauthorized, naming why.
 */
class HttpHardeningIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static GatewayProcess gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = GatewayProcess.start(GatewayProcess.freshDb(), "http-hardening",
                "-Ddiminuendo.limits.rest-requests-per-second=20", "-Ddiminuendo.limits.rest-burst=40");
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }

    private static HttpResponse<String> send(String method, String path, String contentType, String body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + gateway.port() + path))
                .header("Authorization", "Bearer " + GatewayProcess.API_KEY)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode errorBody(HttpResponse<String> r) throws IOException {
        assertThat(r.headers().firstValue("content-type").orElse("")).as("content type of %s", r.body())
                .startsWith("application/json");
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.path("message").asText()).isNotBlank();
        return body;
    }

    @Test
    void everyErrorStatusHasAJsonBody() throws Exception {
        HttpResponse<String> wrongMethod = send("PUT", "/api/sessions", "application/json", "{}");
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(errorBody(wrongMethod).path("code").asText()).isEqualTo("method_not_allowed");

        HttpResponse<String> healthPost = send("POST", "/health", null, null);
        assertThat(healthPost.statusCode()).isEqualTo(405);
        assertThat(errorBody(healthPost).path("code").asText()).isEqualTo("method_not_allowed");

        HttpResponse<String> nowhere = send("GET", "/api/nothing-here", null, null);
        assertThat(nowhere.statusCode()).isEqualTo(404);
        assertThat(errorBody(nowhere).path("code").asText()).isEqualTo("not_found");

        HttpResponse<String> noAuth = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + gateway.port()
                + "/api/sessions")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(noAuth.statusCode()).isEqualTo(401);
        assertThat(errorBody(noAuth).path("code").asText()).isEqualTo("unauthorized");
    }

    @Test
    void aBodyThatIsNotDeclaredJsonIsRefusedWith415AndCreatesNothing() throws Exception {
        int before = JSON.readTree(send("GET", "/api/sessions?limit=200", null, null).body()).path("items").size();
        HttpResponse<String> plain = send("POST", "/api/sessions", "text/plain", "{\"title\":\"t\"}");
        assertThat(plain.statusCode()).isEqualTo(415);
        assertThat(errorBody(plain).path("code").asText()).isEqualTo("unsupported_media_type");
        HttpResponse<String> form = send("PATCH", "/api/sessions/x", "application/x-www-form-urlencoded", "title=t");
        assertThat(form.statusCode()).isEqualTo(415);
        int after = JSON.readTree(send("GET", "/api/sessions?limit=200", null, null).body()).path("items").size();
        assertThat(after).isEqualTo(before);

        HttpResponse<String> json = send("POST", "/api/sessions", "application/json; charset=utf-8", "{\"title\":\"t\"}");
        assertThat(json.statusCode()).isEqualTo(201);
    }

    @Test
    void aClientFloodingTheRestApiIsRateLimitedWithRetryAfter() throws Exception {
        Thread.sleep(2_500);
        List<HttpResponse<String>> limited = new ArrayList<>();
        int ok = 0;
        for (int i = 0; i < 120; i++) {
            HttpResponse<String> r = send("GET", "/api/sessions?limit=1", null, null);
            if (r.statusCode() == 429) {
                limited.add(r);
            } else {
                assertThat(r.statusCode()).isEqualTo(200);
                ok++;
            }
        }
        assertThat(ok).as("requests within the burst").isGreaterThanOrEqualTo(40);
        assertThat(limited).as("requests over the rate").isNotEmpty();
        HttpResponse<String> first = limited.get(0);
        assertThat(errorBody(first).path("code").asText()).isEqualTo("rate_limited");
        assertThat(first.headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isPositive());
        assertThat(gateway.metric("diminuendo_limit_hits_total", "limit=\"rest_rate\"")).isPositive();
        Thread.sleep(2_500);
        assertThat(send("GET", "/api/sessions?limit=1", null, null).statusCode()).as("after a pause").isEqualTo(200);
    }

    @Test
    void requestsWithoutAHostHeaderAreRefusedWithoutFloodingTheLog() throws Exception {
        for (int i = 0; i < 20; i++) {
            try (Socket s = new Socket("localhost", gateway.port())) {
                OutputStream out = s.getOutputStream();
                out.write("GET /health HTTP/1.1\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String response = readAll(s.getInputStream());
                assertThat(response).startsWith("HTTP/1.1 400");
            }
        }
        Thread.sleep(200);
        assertThat(gateway.log()).as("the log after 20 requests without Host").doesNotContain("\"level\":\"ERROR\"")
                .doesNotContain("Exception").as("no warning at start either").doesNotContain("\"level\":\"WARN\"");
    }

    @Test
    void anOversizedTokenIsRefusedAsUnauthorizedNamingWhy() {
        try (WsClient c = WsClient.connect(gateway.ws())) {
            JsonNode reply = c.request("authenticate", "token", "x".repeat(100_000));
            assertThat(reply.path("code").asText()).isEqualTo("unauthorized");
            assertThat(reply.path("message").asText()).contains("token").doesNotContain("authenticate first");
            assertThat(c.awaitClose()).isEqualTo(4401);
        }
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toString(StandardCharsets.ISO_8859_1);
    }
}

package io.diminuendo.agui;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.auth.TestTokens;
import io.diminuendo.support.Keys;
import io.diminuendo.support.Metrics;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;

/**
 * The AG-UI endpoint's HTTP contract (docs/protocol.md, "4. AG-UI"), checked with a plain Java client: SSE framing,
 * keep-alive comments, cancel on disconnect, pacing by the reader, the thread = session rule, every refusal status
 * with its {@code {code, message}} body, body limits and CORS.
 */
@QuarkusTest
@TestProfile(AguiTestProfile.class)
class AguiEndpointTest {

    @TestHTTPResource("/api/agui")
    URI agui;

    @TestHTTPResource("/ws")
    URI ws;

    private static String newThread() {
        return UUID.randomUUID().toString();
    }

    private static String restSession(String key, String title) {
        return given().header("Authorization", "Bearer " + key).contentType("application/json")
                .body(Map.of("title", title)).post("/api/sessions").then().statusCode(201).extract().path("id");
    }

    private static String sessionStatus(String id) {
        return given().header("Authorization", "Bearer " + Keys.ALICE).get("/api/sessions/" + id).then().statusCode(200)
                .extract().path("status");
    }

    private static void refused(SseRun run, int status, String code, String inMessage) {
        assertThat(run.status()).isEqualTo(status);
        assertThat(run.header("Content-Type")).startsWith("application/json");
        JsonNode body = run.json();
        assertThat(body.path("code").asText()).isEqualTo(code);
        assertThat(body.path("message").asText()).contains(inMessage);
    }

    @Test
    void eventsAreDataLinesEachFollowedByABlankLineWithLineFeedsOnly() throws IOException {
        try (SseRun run = SseRun.post(agui, Keys.ALICE, SseRun.prompt(newThread(), "/sim tokens=5"))) {
            assertThat(run.status()).isEqualTo(200);
            assertThat(run.header("Content-Type")).isEqualTo("text/event-stream");
            assertThat(run.header("Cache-Control")).isEqualTo("no-cache");
            InputStream body = run.response.body();
            String text = new String(body.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(text).doesNotContain("\r").endsWith("\n\n");
            List<String> blocks = List.of(text.substring(0, text.length() - 2).split("\n\n", -1));
            assertThat(blocks).allSatisfy(b -> assertThat(b).matches("data: \\{[^\n]*}|: keep-alive"));
            List<String> data = blocks.stream().filter(b -> b.startsWith("data: ")).toList();
            assertThat(data.get(0)).startsWith("data: {\"type\":\"RUN_STARTED\"");
            assertThat(data.get(data.size() - 1)).startsWith("data: {\"type\":\"RUN_FINISHED\"");
            assertThat(data).filteredOn(b -> b.contains("\"TEXT_MESSAGE_CONTENT\"")).hasSize(5);
        }
    }

    @Test
    void anIdleStreamGetsKeepAliveCommentsAndHangingUpCancelsTheTurn() {
        String thread = newThread();
        try (SseRun run = SseRun.post(agui, Keys.ALICE, SseRun.prompt(thread, "/sim hang"))) {
            assertThat(run.next("TEXT_MESSAGE_CONTENT").path("delta").asText()).isEqualTo("Working");
            // the turn hangs: what comes now is a comment every 300 ms (diminuendo.agui.keep-alive-interval)
            long start = System.nanoTime();
            List<String> lines = assertTimeoutPreemptively(Duration.ofSeconds(5),
                    () -> List.of(run.nextLine(), run.nextLine(), run.nextLine()));
            assertThat(lines).containsOnly(RunStream.KEEP_ALIVE.strip());
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(500));
            assertThat(sessionStatus(thread)).isEqualTo("running");
        }
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(AguiClientTest.kinds(AguiClientTest.history(thread))).containsExactly(
                        "user_message", "turn_started", "turn_cancelled"));
        assertThat(sessionStatus(thread)).isEqualTo("idle");
    }

    /**
     * The new run arrives while the first run's client is still connected and hangs up only then, as a front end's
     * abort and its next request can cross on the way: the new run waits for the cancel instead of getting 409.
     */
    @Test
    void aNewRunArrivingAsTheClientHangsUpWaitsForTheCancelInsteadOfConflict() throws Exception {
        String thread = newThread();
        SseRun first = SseRun.post(agui, Keys.ALICE, SseRun.prompt(thread, "/sim hang"));
        first.next("TEXT_MESSAGE_CONTENT");
        CompletableFuture<SseRun> next = CompletableFuture
                .supplyAsync(() -> SseRun.post(agui, Keys.ALICE, SseRun.prompt(thread, "/sim tokens=2")));
        Thread.sleep(150); // well inside the new run's wait for a departing client (500 ms)
        first.close();
        try (SseRun second = next.get(10, TimeUnit.SECONDS)) {
            assertThat(second.status()).isEqualTo(200);
            List<JsonNode> events = second.rest();
            assertThat(events.get(events.size() - 1).path("type").asText()).isEqualTo("RUN_FINISHED");
        }
        assertThat(AguiClientTest.kinds(AguiClientTest.history(thread))).containsExactly("user_message",
                "turn_started", "turn_cancelled", "user_message", "turn_started", "usage", "turn_completed");
    }

    @Test
    void aRunReadSlowlyGetsEveryEventInOrderCaughtUpFromTheStore() throws InterruptedException {
        double catchUps = Metrics.sum("diminuendo_subscriptions_behind_catch_ups_total");
        int tokens = 20_000;
        try (SseRun run = SseRun.post(agui, Keys.ALICE, SseRun.prompt(newThread(), "/sim tokens=" + tokens))) {
            assertThat(run.next().path("type").asText()).isEqualTo("RUN_STARTED");
            Thread.sleep(1500); // the turn streams on meanwhile: far more than the 64-frame queue holds
            List<JsonNode> events = run.rest();
            List<String> deltas = events.stream().filter(e -> e.path("type").asText().equals("TEXT_MESSAGE_CONTENT"))
                    .map(e -> e.path("delta").asText()).toList();
            assertThat(deltas).hasSize(tokens);
            for (int i = 0; i < tokens; i++) {
                assertThat(deltas.get(i)).isEqualTo("tok" + i + " ");
            }
            assertThat(events.get(events.size() - 1).path("type").asText()).isEqualTo("RUN_FINISHED");
        }
        assertThat(Metrics.sum("diminuendo_subscriptions_behind_catch_ups_total")).isGreaterThan(catchUps);
    }

    @Test
    void deletingTheSessionEndsTheRunWithRunError() {
        String thread = newThread();
        try (SseRun run = SseRun.post(agui, Keys.ALICE, SseRun.prompt(thread, "/sim hang"))) {
            run.next("TEXT_MESSAGE_CONTENT");
            given().header("Authorization", "Bearer " + Keys.ALICE).delete("/api/sessions/" + thread).then()
                    .statusCode(204);
            List<JsonNode> rest = run.rest();
            assertThat(rest).extracting(e -> e.path("type").asText()).endsWith("TEXT_MESSAGE_END", "RUN_ERROR");
            assertThat(rest.get(rest.size() - 1).path("code").asText()).isEqualTo("session_deleted");
        }
    }

    // --- thread = session

    @Test
    void anUnknownThreadBecomesASessionOfTheCallersTenantAndTheTenantIsTold() {
        try (WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
            String thread = newThread();
            String prompt = "please summarise the following long request " + "x".repeat(100);
            try (SseRun run = SseRun.post(agui, Keys.ALICE, SseRun.prompt(thread, prompt))) {
                assertThat(run.status()).isEqualTo(200);
                assertThat(run.next("RUN_FINISHED").path("threadId").asText()).isEqualTo(thread);
            }
            JsonNode event = bob.await(n -> "tenant_event".equals(n.path("type").asText())
                    && thread.equals(n.path("session").path("id").asText()));
            assertThat(event.path("event").asText()).isEqualTo("session_created");
            JsonNode session = event.path("session");
            assertThat(session.path("tenantId").asText()).isEqualTo("acme");
            assertThat(session.path("ownerId").asText()).isEqualTo("alice");
            assertThat(session.path("title").asText()).isEqualTo(prompt.substring(0, 80));
            assertThat(session.path("metadata").path("source").asText()).isEqualTo("ag-ui");
        }
    }

    @Test
    void theBackendInThePathPicksTheBackendOfTheSessionItCreates() {
        String thread = newThread();
        try (SseRun run = SseRun.post(URI.create(agui + "/simulated"), Keys.ALICE, SseRun.prompt(thread, "hi"))) {
            assertThat(run.next("RUN_FINISHED").path("outcome").path("type").asText()).isEqualTo("success");
        }
        assertThat(given().header("Authorization", "Bearer " + Keys.ALICE).get("/api/sessions/" + thread).then()
                .statusCode(200).extract().<String>path("agent")).isEqualTo("simulated");

        String other = newThread();
        refused(SseRun.post(URI.create(agui + "/no-such-backend"), Keys.ALICE, SseRun.prompt(other, "hi")), 404,
                "not_found", "no-such-backend");
        given().header("Authorization", "Bearer " + Keys.ALICE).get("/api/sessions/" + other).then().statusCode(404);
    }

    @Test
    void aSessionOfAnotherUserOfTheTenantIsUsedAsItIs() {
        String bobs = restSession(Keys.BOB, "bob's session");
        try (SseRun run = SseRun.post(agui, Keys.ALICE, SseRun.prompt(bobs, "/sim tokens=1"))) {
            assertThat(run.next("RUN_FINISHED").path("threadId").asText()).isEqualTo(bobs);
        }
        assertThat(AguiClientTest.history(bobs).get(0).path("data").path("userId").asText()).isEqualTo("alice");
    }

    @Test
    void anArchivedSessionIsConflict() {
        String id = restSession(Keys.ALICE, "to archive");
        given().header("Authorization", "Bearer " + Keys.ALICE).post("/api/sessions/" + id + "/archive").then()
                .statusCode(200);
        refused(SseRun.post(agui, Keys.ALICE, SseRun.prompt(id, "hi")), 409, "conflict", "archived");
        assertThat(AguiClientTest.history(id)).isEmpty();
    }

    // --- resume

    @Test
    void resumingAnUnknownInterruptIsNotFoundNamingItAndChangesNothing() {
        String id = restSession(Keys.ALICE, "no interrupts");
        String body = "{\"threadId\":\"" + id + "\",\"runId\":\"r\",\"messages\":[],"
                + "\"resume\":[{\"interruptId\":\"perm_nope\",\"status\":\"resolved\",\"payload\":{\"decision\":\"allow\"}}]}";
        refused(SseRun.post(agui, Keys.ALICE, body), 404, "not_found", "perm_nope");

        String unknown = newThread();
        refused(SseRun.post(agui, Keys.ALICE, body.replace(id, unknown)), 404, "not_found", "perm_nope");
        given().header("Authorization", "Bearer " + Keys.ALICE).get("/api/sessions/" + unknown).then().statusCode(404);
    }

    @Test
    void anInterruptAnsweredBySomeoneElseMeanwhileStreamsTheRestOfTheTurn() {
        String thread = newThread();
        JsonNode interrupt;
        try (SseRun run = SseRun.post(agui, Keys.ALICE, SseRun.prompt(thread, "/sim permission"))) {
            interrupt = run.next("RUN_FINISHED").path("outcome").path("interrupts").get(0);
            assertThat(run.next()).as("the response ends after the interrupt").isNull();
        }
        try (WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
            assertThat(bob.request("permission_decision", "sessionId", thread, "requestId", interrupt.path("id").asText(),
                    "decision", "deny").path("type").asText()).isEqualTo("permission_decision_accepted");
        }
        String resume = "{\"threadId\":\"" + thread + "\",\"runId\":\"r2\",\"messages\":[],\"resume\":[{\"interruptId\":\""
                + interrupt.path("id").asText() + "\",\"status\":\"resolved\",\"payload\":{\"decision\":\"allow\"}}]}";
        try (SseRun run = SseRun.post(agui, Keys.ALICE, resume)) {
            assertThat(run.status()).isEqualTo(200);
            List<JsonNode> events = run.rest();
            assertThat(events).extracting(e -> e.path("type").asText()).startsWith("RUN_STARTED", "CUSTOM")
                    .doesNotContain("TOOL_CALL_START").endsWith("RUN_FINISHED");
            assertThat(events.get(1).path("value").path("decision").asText()).as("bob's answer stands").isEqualTo("deny");
            assertThat(events.get(1).path("value").path("userId").asText()).isEqualTo("bob");
        }
    }

    // --- refusals

    @Test
    void badBodiesAreRefusedWith400NamingTheField() {
        refused(SseRun.post(agui, Keys.ALICE, SseRun.prompt("not-a-uuid", "hi")), 400, "bad_request", "threadId");
        refused(SseRun.post(agui, Keys.ALICE, "{\"threadId\":\"" + newThread() + "\",\"runId\":\"\",\"messages\":[]}"),
                400, "bad_request", "runId");
        refused(SseRun.post(agui, Keys.ALICE, "{\"threadId\":\"" + newThread()
                + "\",\"runId\":\"r\",\"messages\":[{\"id\":\"a\",\"role\":\"assistant\",\"content\":\"x\"}]}"), 400,
                "bad_request", "messages[0].role");
        refused(SseRun.post(agui, Keys.ALICE, "{\"threadId\":\"" + newThread()
                + "\",\"runId\":\"r\",\"messages\":[],\"resume\":[{\"interruptId\":\"p\",\"status\":\"later\"}]}"), 400,
                "bad_request", "resume[0].status");
        refused(SseRun.post(agui, Keys.ALICE, "{"), 400, "bad_request", "JSON");
    }

    @Test
    void aJwtAuthenticatesAsOverRestAndItsScopeCounts() {
        byte[] secret = Keys.HS256_SECRET.getBytes(StandardCharsets.UTF_8);
        String writer = TestTokens.hs256(secret, Map.of("sub", "carol", "tid", "acme", "scope", "sessions:write"));
        String thread = newThread();
        try (SseRun run = SseRun.post(agui, writer, SseRun.prompt(thread, "/sim tokens=1"))) {
            assertThat(run.next("RUN_FINISHED").path("outcome").path("type").asText()).isEqualTo("success");
        }
        assertThat(AguiClientTest.history(thread).get(0).path("data").path("userId").asText()).isEqualTo("carol");

        String reader = TestTokens.hs256(secret, Map.of("sub", "dave", "tid", "acme", "scope", "sessions:read"));
        refused(SseRun.post(agui, reader, SseRun.prompt(newThread(), "hi")), 403, "forbidden", "sessions:write");
    }

    @Test
    void aBodyNotDeclaredJsonIs415AndAnotherMethodIs405() {
        SseRun plain = SseRun.post(agui, Keys.ALICE, SseRun.prompt(newThread(), "hi"), "Content-Type", "text/plain");
        refused(plain, 415, "unsupported_media_type", "application/json");
        Response get = given().header("Authorization", "Bearer " + Keys.ALICE).get("/api/agui");
        assertThat(get.statusCode()).isEqualTo(405);
        assertThat(get.header("Allow")).contains("POST");
        assertThat(get.jsonPath().getString("code")).isEqualTo("method_not_allowed");
    }

    @Test
    void anInvalidTokenIsRefusedWith401() {
        refused(SseRun.post(agui, "not-a-key-at-all", SseRun.prompt(newThread(), "hi")), 401, "unauthorized",
                "authentication failed");
    }

    @Test
    void aBodyOverItsLimitAndAPromptOverThePromptLimitAreTooLarge() {
        String big = SseRun.prompt(newThread(), "x".repeat(AguiTestProfile.MAX_BODY_BYTES));
        refused(SseRun.post(agui, Keys.ALICE, big), 413, "too_large", "diminuendo.agui.max-body-bytes");
        String thread = newThread();
        refused(SseRun.post(agui, Keys.ALICE, SseRun.prompt(thread, "x".repeat(100_001))), 413, "too_large",
                "messages[0].content");
        given().header("Authorization", "Bearer " + Keys.ALICE).get("/api/sessions/" + thread).then().statusCode(404);
        // a long history is fine while the new text is within the prompt limit
        String history = "{\"id\":\"old\",\"role\":\"user\",\"content\":\"" + "h".repeat(150_000) + "\"},";
        String body = "{\"threadId\":\"" + thread + "\",\"runId\":\"r\",\"messages\":[" + history
                + "{\"id\":\"new\",\"role\":\"user\",\"content\":\"/sim tokens=1\"}]}";
        try (SseRun run = SseRun.post(agui, Keys.ALICE, body)) {
            assertThat(run.status()).isEqualTo(200);
            assertThat(run.next("RUN_FINISHED")).isNotNull();
        }
    }

    // --- CORS

    @Test
    void thePreflightOfAnAllowedOriginAllowsAuthorizationAndContentType() {
        Response preflight = given().header("Origin", AguiTestProfile.ALLOWED_ORIGIN)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization,content-type").options("/api/agui");
        assertThat(preflight.statusCode()).isEqualTo(204);
        assertThat(preflight.header("Access-Control-Allow-Origin")).isEqualTo(AguiTestProfile.ALLOWED_ORIGIN);
        assertThat(preflight.header("Access-Control-Allow-Methods")).contains("POST");
        assertThat(preflight.header("Access-Control-Allow-Headers")).contains("Authorization").contains("Content-Type");
        assertThat(preflight.header("Vary")).isEqualTo("Origin");
    }

    @Test
    void anOriginOffTheAllowListIsRefusedWith403AndGetsNoCorsHeaders() {
        double hits = Metrics.sum("diminuendo_limit_hits_total", "limit=\"origin\"");
        Response preflight = given().header("Origin", "https://elsewhere.example")
                .header("Access-Control-Request-Method", "POST").options("/api/agui");
        assertThat(preflight.statusCode()).isEqualTo(403);
        assertThat(preflight.header("Access-Control-Allow-Origin")).isNull();
        SseRun post = SseRun.post(agui, Keys.ALICE, SseRun.prompt(newThread(), "hi"), "Origin", "https://elsewhere.example");
        assertThat(post.header("Access-Control-Allow-Origin")).isNull();
        refused(post, 403, "forbidden", "https://elsewhere.example");
        assertThat(Metrics.sum("diminuendo_limit_hits_total", "limit=\"origin\"")).isEqualTo(hits + 2);
    }

    @Test
    void answersToAnAllowedOriginCarryTheCorsHeaderStreamsAndErrorsAlike() {
        try (SseRun run = SseRun.post(agui, Keys.ALICE, SseRun.prompt(newThread(), "hi"), "Origin",
                AguiTestProfile.ALLOWED_ORIGIN)) {
            assertThat(run.status()).isEqualTo(200);
            assertThat(run.header("Access-Control-Allow-Origin")).isEqualTo(AguiTestProfile.ALLOWED_ORIGIN);
        }
        SseRun refused = SseRun.post(agui, null, SseRun.prompt(newThread(), "hi"), "Origin", AguiTestProfile.ALLOWED_ORIGIN);
        assertThat(refused.header("Access-Control-Allow-Origin")).isEqualTo(AguiTestProfile.ALLOWED_ORIGIN);
        refused(refused, 401, "unauthorized", "Bearer");
    }
}

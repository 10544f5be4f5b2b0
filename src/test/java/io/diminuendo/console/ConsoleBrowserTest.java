package io.diminuendo.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.connection.ConnectionRegistry;
import io.diminuendo.support.Keys;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The web console in headless Chromium, driven by playwright-core through its {@code data-testid} hooks: sign in,
 * stream a turn, cancel, answer permission requests, a second tab following the tenant's sessions, a server-side
 * drop in the middle of a stream, a refused token. Every scenario also fails on a console error or a blocked
 * resource (the page runs under the gateway's Content-Security-Policy). Screenshots of failures go to
 * {@code target/console-failures}.
 */
@QuarkusTest
class ConsoleBrowserTest {
    private static final Path SHOTS = Path.of("target", "console-failures").toAbsolutePath();

    @TestHTTPResource("/")
    URI base;

    @Inject
    ConnectionRegistry connections;

    @BeforeAll
    static void installed() {
        ConsoleScripts.BROWSER.requireInstalled("playwright-core", ConsoleScripts.INSTALLER);
    }

    private JsonNode scenario(String name, Object... kv) {
        Map<String, Object> fixed = new LinkedHashMap<>();
        fixed.put("base", base.toString());
        fixed.put("key", Keys.ALICE);
        fixed.put("shots", SHOTS.toString());
        JsonNode result = ConsoleScripts.BROWSER.run(name, ConsoleScripts.args(fixed, kv), 180,
                ConsoleScripts.dropHook(connections));
        assertThat(strings(result.path("problems"))).as("console errors and blocked resources").isEmpty();
        return result;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void signInCreateASessionAndWatchTheTextThinkingAndToolCallsStreamIn() {
        JsonNode r = scenario("stream");
        assertThat(r.path("status").asText()).isEqualTo("completed (end_turn)");
        assertThat(strings(r.path("assistantTexts")).get(0)).isEqualTo(ClientLibraryTest.expectedText(50));
        assertThat(r.path("simMenuVisible").asBoolean()).isTrue();
        assertThat(r.path("fromMenu").asText()).isEqualTo("/sim thinking tool tokens=20");
        assertThat(r.path("second").asText()).startsWith("completed");
        assertThat(String.join("", strings(r.path("thinking")))).contains("Let me think about how to answer this.");
        assertThat(strings(r.path("toolCalls"))).hasSize(1).first().asString().contains("read_file");
        assertThat(strings(r.path("toolResults"))).hasSize(1);
        assertThat(strings(r.path("assistantTexts"))).hasSize(2);
        assertThat(strings(r.path("assistantTexts")).get(1)).isEqualTo(ClientLibraryTest.expectedText(20));
        assertThat(r.path("usage").asText()).contains("tokens in");
        assertThat(r.path("listedOnce").asInt()).as("the new session is listed once").isEqualTo(1);
        // the token stays in this tab's storage and out of the address
        assertThat(r.path("url").asText()).doesNotContain(Keys.ALICE);
        assertThat(strings(r.path("sessionStorage"))).containsExactly("diminuendo.token");
        assertThat(strings(r.path("localStorage"))).isEmpty();
    }

    @Test
    void cancelEndsAHangingTurn() {
        JsonNode r = scenario("cancel");
        assertThat(r.path("enabledWhileRunning").asBoolean()).isTrue();
        assertThat(r.path("status").asText()).isEqualTo("cancelled by alice");
        assertThat(r.path("enabledAfter").asBoolean()).isFalse();
    }

    @Test
    void allowAndDenyAnswerPermissionRequests() {
        JsonNode r = scenario("permission");
        assertThat(r.path("allowed").asText()).startsWith("completed");
        assertThat(r.path("denied").asText()).startsWith("completed");
        assertThat(strings(r.path("outcomes"))).containsExactly("Allowed by alice", "Denied by alice");
        assertThat(r.path("buttonsDisabled").asBoolean()).isTrue();
        // allowed: the tool ran; denied: it did not
        assertThat(strings(r.path("toolResults"))).hasSize(1);
    }

    @Test
    void aSecondTabSeesSessionsAppearChangeAndGo() {
        JsonNode r = scenario("secondTab");
        assertThat(r.path("seenTitle").asText()).startsWith("Session ");
        assertThat(r.path("goneFromFirst").asInt()).isZero();
    }

    @Test
    void aServerDropMidStreamReconnectsAndShowsTheWholeTextExactlyOnce() {
        int tokens = 300;
        JsonNode r = scenario("resume", "tokens", tokens, "delayMs", 10, "user", "alice");
        assertThat(r.path("dropped").path("closed").asInt()).isPositive();
        assertThat(r.path("lengthAtDrop").asInt()).isLessThan(ClientLibraryTest.expectedText(tokens).length());
        assertThat(strings(r.path("seenStatuses"))).as("the indicator while the page reconnected")
                .anyMatch(s -> s.contains("reconnecting"));
        assertThat(r.path("finalStatus").asText()).isEqualTo("connected");
        assertThat(r.path("status").asText()).isEqualTo("completed (end_turn)");
        assertThat(strings(r.path("assistantTexts"))).containsExactly(ClientLibraryTest.expectedText(tokens));
    }

    @Test
    void aBadTokenShowsAClearErrorAndKeepsNothing() {
        JsonNode r = scenario("badToken", "token", "not-a-valid-key");
        assertThat(r.path("error").asText()).startsWith("Sign-in refused").contains("Check the key or token");
        assertThat(r.path("status").asText()).isEqualTo("signed out");
        assertThat(r.path("appHidden").asBoolean()).isTrue();
        assertThat(r.path("url").asText()).doesNotContain("not-a-valid-key");
        assertThat(strings(r.path("stored"))).isEmpty();
        assertThat(r.path("invalid").asText()).isEqualTo("true");
    }
}

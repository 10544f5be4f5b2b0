package io.diminuendo.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.GatewayProcess;
import io.diminuendo.support.WsClient;

/**
 * The store's disk fills up mid-stream (a 4 MiB tmpfs, where the machine lets the test mount one; skipped
 * elsewhere, or with {@code -Ddiminuendo.it.disk-full=false}): writes get
 * {@code unavailable}, readiness goes down, streamed events are kept and retried, and when space returns the
 * service resumes with the stored stream complete and contiguous. A client that subscribes from seq 0 while the
 * disk is full receives that whole stream once, too.
 */
@DisabledIfSystemProperty(named = "diminuendo.it.disk-full", matches = "false")
class DiskFullIT {

    private static int ready(GatewayProcess gw) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://localhost:" + gw.managementPort()
                + "/q/health/ready")).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static void fill(Path filler) {
        byte[] chunk = new byte[16 * 1024];
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(chunk);
                out.flush();
            }
        } catch (IOException full) {
            // the file system is full
        }
    }

    @Test
    void aFullDiskRefusesWritesThenResumesWithoutLosingStreamedEvents() throws Exception {
        try (SmallVolume volume = SmallVolume.mount("4m");
                GatewayProcess gw = GatewayProcess.start(volume.root.resolve("diminuendo.db"), "disk-full",
                        "-Ddiminuendo.store.writer.queue-capacity=256")) {
            try (WsClient c = WsClient.authenticated(gw.ws(), GatewayProcess.API_KEY);
                    WsClient late = WsClient.authenticated(gw.ws(), GatewayProcess.API_KEY)) {
                String id = c.createSession("disk");
                c.request("subscribe", "sessionId", id);
                c.request("send_message", "sessionId", id, "text", "/sim tokens=50");
                List<JsonNode> received = new ArrayList<>(c.eventsUntilTurnEnds(id));

                Path filler = volume.root.resolve("filler");
                fill(filler);
                c.request("send_message", "sessionId", id, "text", "/sim tokens=3000 delay_ms=0");
                await().atMost(Duration.ofSeconds(60)).until(() -> ready(gw) == 503);
                // a client that subscribes from the start now is answered once the events it must replay are stored
                // (the user message above waits in the writer), not with a replay that stops where the store does
                String lateSubscribe = WsClient.nextId();
                late.send(WsClient.frame("subscribe", "sessionId", id, "afterSeq", 0).put("id", lateSubscribe));
                await().atMost(Duration.ofSeconds(60)).until(() ->
                        "unavailable".equals(c.request("create_session", "title", "while full").path("code").asText()));
                int sessionsWhileFull = c.request("list_sessions").path("items").size();
                // a rename that cannot be stored is refused and leaves the session as it was, in memory too
                JsonNode renamed = c.request("update_session", "sessionId", id, "title", "never stored");
                assertThat(renamed.path("code").asText()).isEqualTo("unavailable");
                assertThat(c.request("get_session", "sessionId", id).path("session").path("title").asText())
                        .isEqualTo("disk");

                Files.delete(filler);
                await().atMost(Duration.ofSeconds(60)).until(() -> ready(gw) == 200);
                received.addAll(c.eventsUntilTurnEnds(id));
                assertThat(received.get(received.size() - 1).path("kind").asText()).isEqualTo("turn_completed");
                assertThat(c.request("create_session", "title", "after").path("type").asText()).isEqualTo("session_created");
                assertThat(c.request("list_sessions").path("items").size()).isEqualTo(sessionsWhileFull + 1);

                List<JsonNode> stored = new ArrayList<>();
                long after = 0;
                while (stored.size() < received.size()) {
                    JsonNode page = c.request("history", "sessionId", id, "afterSeq", after, "limit", 1000);
                    assertThat(page.path("events").isEmpty()).as("history ends early at seq %d", after).isFalse();
                    page.path("events").forEach(stored::add);
                    after = stored.get(stored.size() - 1).path("seq").asLong();
                }
                assertThat(stored).isEqualTo(received);
                for (int i = 0; i < stored.size(); i++) {
                    assertThat(stored.get(i).path("seq").asLong()).isEqualTo(i + 1);
                }

                List<JsonNode> lateEvents = new ArrayList<>(late.eventsUntilTurnEnds(id));
                lateEvents.addAll(late.eventsUntilTurnEnds(id));
                assertThat(lateEvents).as("the late subscriber's replay and live events").isEqualTo(received);
                assertThat(late.reply(lateSubscribe).path("type").asText()).isEqualTo("subscribed");
            }
            assertThat(gw.stop()).isTrue();
        }
    }
}

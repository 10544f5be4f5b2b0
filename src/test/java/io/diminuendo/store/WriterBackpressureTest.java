package io.diminuendo.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.Metrics;
import io.diminuendo.support.Tenants;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * The single writer's bounded queue (16 writes here, batches of at most 4): streamed events wait inside their turn
 * and the backend pauses, so a long turn loses nothing; requests that need a write while the queue is full get
 * {@code unavailable} and change nothing; the queue never holds more than its capacity.
 */
@QuarkusTest
@TestProfile(WriterBackpressureTest.TinyWriterQueue.class)
class WriterBackpressureTest {
    private static final int CAPACITY = 16;
    private static final int TOKENS = 5_000;

    public static class TinyWriterQueue implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("diminuendo.store.writer.queue-capacity", Integer.toString(CAPACITY),
                    "diminuendo.store.writer.max-batch-rows", "4");
        }
    }

    @TestHTTPResource("/ws")
    URI ws;

    @Test
    void aLongTurnDeliversEveryEventOnceInOrderAndStoresThemAllWhileTheQueueStaysWithinItsCapacity() throws Exception {
        String token = Tenants.token(Tenants.fresh("writer"), "alice");
        try (WsClient c = WsClient.authenticated(ws, token)) {
            String sessionId = c.createSession("long turn");
            c.subscribe(sessionId);

            Metrics.value("diminuendo_writer_queue_depth"); // warm the HTTP client up before the turn starts
            AtomicBoolean turnRunning = new AtomicBoolean(true);
            CompletableFuture<List<Double>> depths = CompletableFuture.supplyAsync(() -> {
                List<Double> samples = new ArrayList<>();
                while (turnRunning.get()) {
                    samples.add(Metrics.value("diminuendo_writer_queue_depth"));
                }
                return samples;
            });
            String turnId = c.sendMessage(sessionId, "/sim tokens=" + TOKENS + " delay_ms=0");
            List<JsonNode> live = c.eventsUntilTurnEnds(sessionId);
            turnRunning.set(false);

            assertWholeTurn(live, turnId);
            List<Double> samples = depths.get();
            assertThat(samples).isNotEmpty();
            System.out.printf("writer queue depth: %d samples, max %.0f%n", samples.size(),
                    samples.stream().mapToDouble(Double::doubleValue).max().orElse(0));
            assertThat(samples).as("writer queue depth samples").allSatisfy(d -> assertThat(d).isLessThanOrEqualTo(CAPACITY));
            assertThat(samples).as("the turn really was held back by a full queue").anySatisfy(
                    d -> assertThat(d).isGreaterThanOrEqualTo(CAPACITY / 2));
            assertThat(Metrics.value("diminuendo_writer_queue_capacity")).isEqualTo(CAPACITY);

            List<JsonNode> stored = new ArrayList<>();
            long after = 0;
            while (true) {
                JsonNode page = c.request("history", "sessionId", sessionId, "afterSeq", after, "limit", 1000);
                assertThat(page.path("type").asText()).isEqualTo("history");
                assertThat(page.path("lastSeq").asLong()).isEqualTo(live.size());
                if (page.path("events").isEmpty()) {
                    break;
                }
                page.path("events").forEach(stored::add);
                after = stored.get(stored.size() - 1).path("seq").asLong();
            }
            assertThat(stored).as("history equals what was streamed").isEqualTo(live);
        }
    }

    @Test
    void writeRequestsWhileTheQueueIsFullEitherSucceedOrGetUnavailableAndChangeNothing() {
        String token = Tenants.token(Tenants.fresh("writer-policy"), "bob");
        int perConnection = 60;
        List<WsClient> clients = new ArrayList<>();
        try (WsClient streamer = WsClient.authenticated(ws, token)) {
            String busy = streamer.createSession("busy");
            String renamed = streamer.createSession("v-initial");
            streamer.subscribe(busy);
            for (int i = 0; i < 3; i++) {
                clients.add(WsClient.authenticated(ws, token));
            }
            streamer.sendMessage(busy, "/sim tokens=" + TOKENS + " delay_ms=0");
            streamer.awaitEvent(busy, "text_delta");

            // pipelined: every request is on the wire before any reply is read
            List<List<String>> createIds = new ArrayList<>();
            for (WsClient client : clients) {
                List<String> ids = new ArrayList<>();
                for (int i = 0; i < perConnection; i++) {
                    String id = WsClient.nextId();
                    client.send(WsClient.frame("create_session", "title", "c-" + id).put("id", id));
                    ids.add(id);
                }
                createIds.add(ids);
            }
            List<String> updateIds = new ArrayList<>();
            WsClient updater = clients.get(0);
            for (int i = 0; i < perConnection; i++) {
                String id = WsClient.nextId();
                updater.send(WsClient.frame("update_session", "sessionId", renamed, "title", "v-" + i).put("id", id));
                updateIds.add(id);
            }

            Set<String> created = new HashSet<>();
            int refused = 0;
            for (int k = 0; k < clients.size(); k++) {
                for (String id : createIds.get(k)) {
                    JsonNode reply = clients.get(k).reply(id);
                    if ("session_created".equals(reply.path("type").asText())) {
                        assertThat(reply.path("session").path("title").asText()).isEqualTo("c-" + id);
                        created.add(reply.path("session").path("id").asText());
                    } else {
                        assertRefusedAsUnavailable(reply);
                        refused++;
                    }
                }
            }
            String lastTitle = "v-initial";
            for (int i = 0; i < updateIds.size(); i++) {
                JsonNode reply = updater.reply(updateIds.get(i));
                if ("session_updated".equals(reply.path("type").asText())) {
                    lastTitle = "v-" + i;
                } else {
                    assertRefusedAsUnavailable(reply);
                }
            }
            assertThat(created.size() + refused).isEqualTo(clients.size() * perConnection);
            assertThat(refused).as("some creates met a full queue").isPositive();

            List<JsonNode> turn = streamer.eventsUntilTurnEnds(busy);
            assertThat(turn.get(turn.size() - 1).path("kind").asText()).isEqualTo("turn_completed");

            JsonNode list = streamer.request("list_sessions", "limit", 200);
            Set<String> listed = new HashSet<>();
            list.path("items").forEach(s -> listed.add(s.path("id").asText()));
            assertThat(list.path("nextCursor").isNull()).isTrue();
            assertThat(listed).as("exactly the sessions whose creation succeeded, plus the two made before")
                    .hasSize(created.size() + 2).containsAll(created).contains(busy, renamed);
            assertThat(streamer.request("get_session", "sessionId", renamed).path("session").path("title").asText())
                    .as("the title of the last update that succeeded").isEqualTo(lastTitle);
            System.out.printf("writer policy: %d of %d creates refused with unavailable%n", refused, clients.size() * perConnection);
        } finally {
            clients.forEach(WsClient::close);
        }
    }

    private static void assertRefusedAsUnavailable(JsonNode reply) {
        assertThat(reply.path("type").asText()).as("reply %s", reply).isEqualTo("error");
        assertThat(reply.path("code").asText()).as("reply %s", reply).isEqualTo("unavailable");
    }

    /** user_message, turn_started, the text deltas in order, usage, turn_completed: each once, contiguous seqs. */
    private static void assertWholeTurn(List<JsonNode> events, String turnId) {
        assertThat(events).hasSize(TOKENS + 4);
        assertThat(events.get(0).path("kind").asText()).isEqualTo("user_message");
        assertThat(events.get(1).path("kind").asText()).isEqualTo("turn_started");
        assertThat(events.get(events.size() - 2).path("kind").asText()).isEqualTo("usage");
        assertThat(events.get(events.size() - 1).path("kind").asText()).isEqualTo("turn_completed");
        for (int i = 0; i < events.size(); i++) {
            JsonNode e = events.get(i);
            assertThat(e.path("seq").asLong()).as("seq of event #%d", i).isEqualTo(i + 1);
            assertThat(e.path("turnId").asText()).isEqualTo(turnId);
            if (i >= 2 && i < TOKENS + 2) {
                assertThat(e.path("kind").asText()).isEqualTo("text_delta");
                assertThat(e.path("data").path("text").asText()).isEqualTo("tok" + (i - 2) + " ");
            }
        }
    }
}

package io.diminuendo.stream;

import static io.diminuendo.support.Events.isEventOf;
import static io.diminuendo.support.Events.isTerminal;
import static io.diminuendo.support.Events.seqRange;
import static io.diminuendo.support.Events.seqs;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.Metrics;
import io.diminuendo.support.SmallOutboundQueue;
import io.diminuendo.support.Tenants;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * A client subscribing with {@code afterSeq} to a long history while a turn streams, on a 64-frame outbound
 * queue: the live events arriving during its replay are far more than fit the queue, so the replay catches up
 * from the store (ReplayService) instead of cutting the client with 4009, as it did before. It gets every seq
 * exactly once, in order, with {@code subscribed} after the last replayed one.
 */
@QuarkusTest
@TestProfile(SmallOutboundQueue.class)
class ReplayCatchUpTest {
    private static final int HISTORY_TOKENS = 5_000;
    private static final int TURN_TOKENS = 2_000;

    @TestHTTPResource("/ws")
    URI ws;

    @Test
    void aClientReplayingALongHistoryWhileATurnStreamsGetsEverySeqOnceInOrderAndIsNotCut() {
        String token = Tenants.token(Tenants.fresh("catch-up"), "carol");
        double closesBefore = Metrics.slowConsumerCloses();
        double roundsBefore = Metrics.catchUpRounds();
        try (WsClient sender = WsClient.authenticated(ws, token);
                WsClient observer = WsClient.authenticated(ws, token);
                WsClient late = WsClient.authenticated(ws, token)) {
            String sid = sender.createSession("catch-up");
            // the history, streamed with nobody subscribed (a 64-frame queue could not take the simulator's bursts)
            sender.sendMessage(sid, "/sim tokens=" + HISTORY_TOKENS);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> "idle".equals(
                    sender.request("get_session", "sessionId", sid).path("session").path("status").asText()));
            long history = sender.request("get_session", "sessionId", sid).path("session").path("lastSeq").asLong();
            assertThat(history).isGreaterThan(HISTORY_TOKENS);

            assertThat(observer.request("subscribe", "sessionId", sid).path("lastSeq").asLong()).isEqualTo(history);
            String turnId = sender.sendMessage(sid, "/sim tokens=" + TURN_TOKENS + " delay_ms=1");
            List<JsonNode> observed = new ArrayList<>();
            while (observed.size() < 100) {
                observed.add(observer.await(n -> isEventOf(n, sid)));
            }

            String id = WsClient.nextId();
            late.send(WsClient.frame("subscribe", "sessionId", sid, "afterSeq", 0).put("id", id));
            List<JsonNode> frames = new ArrayList<>();
            boolean subscribed = false;
            boolean ended = false;
            while (!subscribed || !ended) {
                JsonNode n;
                try {
                    n = late.await(x -> isEventOf(x, sid) || id.equals(x.path("id").asText(null)));
                } catch (AssertionError silent) {
                    throw new AssertionError("the replaying client " + (late.isClosed() ? "was closed with "
                            + late.awaitClose() : "got nothing more") + " after " + frames.size() + " frames", silent);
                }
                frames.add(n);
                subscribed |= !isEventOf(n, sid);
                ended |= isTerminal(n) && turnId.equals(n.path("turnId").asText());
            }
            observed.addAll(observer.eventsUntilTurnEnds(sid));
            long last = observed.get(observed.size() - 1).path("seq").asLong();
            assertThat(seqs(observed)).containsExactlyElementsOf(seqRange(history + 1, last));

            assertThat(late.isClosed()).as("the replaying client is still connected").isFalse();
            int at = -1;
            for (int i = 0; i < frames.size(); i++) {
                if (!isEventOf(frames.get(i), sid)) {
                    assertThat(frames.get(i).path("type").asText()).isEqualTo("subscribed");
                    assertThat(at).as("one subscribed reply").isEqualTo(-1);
                    at = i;
                }
            }
            assertThat(at).as("subscribed sent").isNotNegative();
            long boundary = frames.get(at).path("lastSeq").asLong();
            assertThat(at).as("replayed events before subscribed (lastSeq %d)", boundary).isEqualTo((int) boundary);
            assertThat(seqs(frames.stream().filter(f -> isEventOf(f, sid)).toList()))
                    .as("every seq exactly once, in order").containsExactlyElementsOf(seqRange(1, last));
            assertThat(boundary).as("subscribed.lastSeq: after the history, at most the last event").isBetween(history + 100, last);

            assertThat(late.request("ping").path("type").asText()).isEqualTo("pong");
            assertThat(late.drain()).noneMatch(n -> isEventOf(n, sid));
            assertThat(Metrics.slowConsumerCloses()).as("4009 closes").isEqualTo(closesBefore);
            double rounds = Metrics.catchUpRounds() - roundsBefore;
            assertThat(rounds).as("catch-up rounds (live events did not fit the buffer during the replay)").isPositive();
            System.out.printf("replayed %d events while the turn streamed: %.0f catch-up rounds, subscribed at seq %d of %d%n",
                    last, rounds, boundary, last);
        }
    }
}

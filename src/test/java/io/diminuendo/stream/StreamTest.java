package io.diminuendo.stream;

import static io.diminuendo.support.Events.kinds;
import static io.diminuendo.support.Events.seqRange;
import static io.diminuendo.support.Events.seqs;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.Keys;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/** A session's event stream as subscribers see it (docs/protocol.md, "Streams"). */
@QuarkusTest
class StreamTest {

    @TestHTTPResource("/ws")
    URI ws;

    @Test
    void seqStartsAtOneAndIncreasesByOneAcrossConsecutiveTurns() {
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String sid = c.createSession("seq continuity");
            assertThat(c.subscribe(sid).path("lastSeq").asLong()).isZero();

            String first = c.sendMessage(sid, "first turn");
            List<JsonNode> turn1 = c.eventsUntilTurnEnds(sid);
            String second = c.sendMessage(sid, "/sim tokens=5");
            List<JsonNode> turn2 = c.eventsUntilTurnEnds(sid);

            List<JsonNode> all = new ArrayList<>(turn1);
            all.addAll(turn2);
            assertThat(seqs(all)).containsExactlyElementsOf(seqRange(1, all.size()));
            assertThat(turn1).allMatch(e -> first.equals(e.path("turnId").asText()));
            assertThat(turn2).allMatch(e -> second.equals(e.path("turnId").asText()));
            assertThat(first).isNotEqualTo(second);
            assertThat(c.request("get_session", "sessionId", sid).path("session").path("lastSeq").asLong())
                    .isEqualTo(all.size());
            assertThat(c.eventsBeforePong(sid)).as("nothing after the second terminal event").isEmpty();
        }
    }

    @Test
    void aTurnIsUserMessageThenTurnStartedThenAgentEventsThenExactlyOneTerminalEvent() {
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String sid = c.createSession("turn order");
            c.subscribe(sid);
            for (String prompt : List.of("hello order", "/sim thinking tool tokens=4", "/sim error")) {
                String turnId = c.sendMessage(sid, prompt);
                List<JsonNode> events = c.eventsUntilTurnEnds(sid);

                JsonNode user = events.get(0);
                assertThat(user.path("kind").asText()).isEqualTo("user_message");
                assertThat(user.path("turnId").asText()).isEqualTo(turnId);
                assertThat(user.path("data").path("text").asText()).isEqualTo(prompt);
                assertThat(user.path("data").path("userId").asText()).isEqualTo("alice");
                assertThat(events.get(1).path("kind").asText()).isEqualTo("turn_started");
                assertThat(events.get(1).path("data").isObject()).isTrue();

                List<String> kinds = kinds(events);
                assertThat(kinds.subList(2, kinds.size() - 1)).as("agent events of %s", prompt)
                        .isNotEmpty()
                        .doesNotContain("user_message", "turn_started", "turn_completed", "turn_failed", "turn_cancelled");
                assertThat(kinds.get(kinds.size() - 1)).isIn("turn_completed", "turn_failed");
                assertThat(events).allMatch(e -> turnId.equals(e.path("turnId").asText()));
                assertThat(events).allMatch(e -> e.path("ts").asLong() > 0 && e.path("data").isObject());
                assertThat(c.eventsBeforePong(sid)).as("no event after the terminal one of %s", prompt).isEmpty();
            }
        }
    }

    @Test
    void simTokensFiftyYieldsExactlyFiftyTextDeltasInOrder() {
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String sid = c.createSession("fifty");
            c.subscribe(sid);
            c.sendMessage(sid, "/sim tokens=50");
            List<JsonNode> events = c.eventsUntilTurnEnds(sid);

            List<String> texts = events.stream().filter(e -> "text_delta".equals(e.path("kind").asText()))
                    .map(e -> e.path("data").path("text").asText()).toList();
            assertThat(texts).hasSize(50);
            for (int i = 0; i < 50; i++) {
                assertThat(texts.get(i)).isEqualTo("tok" + i + " ");
            }
            assertThat(kinds(events).get(events.size() - 1)).isEqualTo("turn_completed");
        }
    }

    @Test
    void twoSubscribersOnTwoConnectionsReceiveIdenticalSequences() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
            String sid = alice.createSession("shared stream");
            alice.subscribe(sid);
            bob.subscribe(sid);

            alice.sendMessage(sid, "/sim thinking tool tokens=200");
            List<JsonNode> seenByAlice = alice.eventsUntilTurnEnds(sid);
            List<JsonNode> seenByBob = bob.eventsUntilTurnEnds(sid);
            bob.sendMessage(sid, "a second turn, sent by bob");
            seenByAlice.addAll(alice.eventsUntilTurnEnds(sid));
            seenByBob.addAll(bob.eventsUntilTurnEnds(sid));

            assertThat(seenByAlice).hasSizeGreaterThan(200);
            assertThat(seqs(seenByAlice)).containsExactlyElementsOf(seqRange(1, seenByAlice.size()));
            assertThat(seenByBob).as("same seq, kind, turnId, ts and data, frame for frame")
                    .containsExactlyElementsOf(seenByAlice);
            assertThat(seenByBob.get(seenByBob.size() - 1).path("turnId").asText())
                    .isNotEqualTo(seenByBob.get(0).path("turnId").asText());
        }
    }

    @Test
    void subscribeWithoutAfterSeqReportsTheCurrentLastSeqAndThenOnlyNewerEvents() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
            String sid = alice.createSession("live only");
            alice.subscribe(sid);
            alice.sendMessage(sid, "/sim tokens=10");
            List<JsonNode> earlier = alice.eventsUntilTurnEnds(sid);
            long last = earlier.get(earlier.size() - 1).path("seq").asLong();

            JsonNode subscribed = bob.subscribe(sid);
            assertThat(subscribed.path("sessionId").asText()).isEqualTo(sid);
            assertThat(subscribed.path("lastSeq").asLong()).isEqualTo(last);
            assertThat(subscribed.path("status").asText()).isEqualTo("idle");
            assertThat(bob.request("get_session", "sessionId", sid).path("session").path("lastSeq").asLong())
                    .isEqualTo(last);
            assertThat(bob.eventsBeforePong(sid)).as("no history without afterSeq").isEmpty();

            alice.sendMessage(sid, "/sim tokens=3");
            List<JsonNode> newer = bob.eventsUntilTurnEnds(sid);
            assertThat(seqs(newer)).containsExactlyElementsOf(seqRange(last + 1, last + newer.size()));
            assertThat(newer).containsExactlyElementsOf(alice.eventsUntilTurnEnds(sid));
        }
    }

    @Test
    void subscribingWhileATurnRunsReportsTheRunningStatusAndContinuesFromLastSeq() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
            String sid = alice.createSession("join running");
            alice.subscribe(sid);
            alice.sendMessage(sid, "/sim hang");
            JsonNode working = alice.awaitEvent(sid, "text_delta");

            JsonNode subscribed = bob.subscribe(sid);
            assertThat(subscribed.path("status").asText()).isEqualTo("running");
            assertThat(subscribed.path("lastSeq").asLong()).isEqualTo(working.path("seq").asLong());

            assertThat(alice.request("cancel_turn", "sessionId", sid).path("type").asText()).isEqualTo("cancel_requested");
            JsonNode cancelled = bob.awaitEvent(sid, "turn_cancelled");
            assertThat(cancelled.path("seq").asLong()).isEqualTo(working.path("seq").asLong() + 1);
            assertThat(cancelled).isEqualTo(alice.awaitEvent(sid, "turn_cancelled"));
        }
    }

    @Test
    void unsubscribeStopsEventsForThatSessionOnly() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
            String sid = alice.createSession("unsubscribe me");
            String other = alice.createSession("still subscribed");
            alice.subscribe(sid);
            bob.subscribe(sid);
            bob.subscribe(other);

            alice.sendMessage(sid, "/sim tokens=3");
            alice.eventsUntilTurnEnds(sid);
            assertThat(bob.eventsUntilTurnEnds(sid)).isNotEmpty();

            JsonNode reply = bob.request("unsubscribe", "sessionId", sid);
            assertThat(reply.path("type").asText()).isEqualTo("unsubscribed");
            assertThat(reply.path("sessionId").asText()).isEqualTo(sid);

            alice.sendMessage(sid, "/sim tokens=20");
            alice.sendMessage(other, "/sim tokens=2");
            assertThat(alice.eventsUntilTurnEnds(sid)).hasSizeGreaterThan(20);
            assertThat(bob.eventsUntilTurnEnds(other)).as("the other subscription keeps working").isNotEmpty();
            assertThat(bob.eventsBeforePong(sid)).as("events of the unsubscribed session").isEmpty();
        }
    }

    @Test
    void historyPagesInAscendingOrderWithTheLastSeq() {
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String sid = c.createSession("history pages");
            c.subscribe(sid);
            c.sendMessage(sid, "/sim tokens=20");
            List<JsonNode> live = c.eventsUntilTurnEnds(sid);
            long last = live.size();
            assertThat(last).isGreaterThan(20);

            List<JsonNode> paged = new ArrayList<>();
            long after = 0;
            int pages = 0;
            while (true) {
                JsonNode page = c.request("history", "sessionId", sid, "afterSeq", after, "limit", 7);
                assertThat(page.path("type").asText()).isEqualTo("history");
                assertThat(page.path("sessionId").asText()).isEqualTo(sid);
                assertThat(page.path("lastSeq").asLong()).isEqualTo(last);
                List<JsonNode> events = new ArrayList<>();
                page.path("events").forEach(events::add);
                assertThat(events.size()).isLessThanOrEqualTo(7);
                if (events.isEmpty()) {
                    break;
                }
                assertThat(seqs(events)).containsExactlyElementsOf(seqRange(after + 1, after + events.size()));
                paged.addAll(events);
                after = events.get(events.size() - 1).path("seq").asLong();
                pages++;
            }
            assertThat(pages).isEqualTo((int) ((last + 6) / 7));
            assertThat(paged).as("history holds the very frames subscribers got").containsExactlyElementsOf(live);

            JsonNode whole = c.request("history", "sessionId", sid);
            assertThat(whole.path("events").size()).isEqualTo((int) last);
            assertThat(whole.path("lastSeq").asLong()).isEqualTo(last);
            JsonNode tail = c.request("history", "sessionId", sid, "afterSeq", last - 2);
            assertThat(seqs(toList(tail.path("events")))).containsExactly(last - 1, last);
        }
    }

    private static List<JsonNode> toList(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    @Test
    void subscribeToAnUnknownOrForeignSessionIsNotFound() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient eve = WsClient.authenticated(ws, Keys.EVE)) {
            JsonNode unknown = alice.request("subscribe", "sessionId", UUID.randomUUID().toString());
            assertThat(unknown.path("type").asText()).isEqualTo("error");
            assertThat(unknown.path("code").asText()).isEqualTo("not_found");

            String sid = alice.createSession("acme only");
            JsonNode foreign = eve.request("subscribe", "sessionId", sid, "afterSeq", 0);
            assertThat(foreign.path("code").asText()).isEqualTo("not_found");
            assertThat(eve.request("history", "sessionId", sid).path("code").asText()).isEqualTo("not_found");

            alice.subscribe(sid);
            alice.sendMessage(sid, "/sim tokens=2");
            alice.eventsUntilTurnEnds(sid);
            assertThat(eve.eventsBeforePong(sid)).isEmpty();
            assertThat(alice.request("ping").path("type").asText()).as("the connection survives").isEqualTo("pong");
        }
    }
}

package io.diminuendo.stream;

import static io.diminuendo.support.Events.isEventOf;
import static io.diminuendo.support.Events.isTerminal;
import static io.diminuendo.support.Events.seqRange;
import static io.diminuendo.support.Events.seqs;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.Keys;
import io.diminuendo.support.WsClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Subscribing with {@code afterSeq}: stored events first, then {@code subscribed}, then live events, with no gap
 * and no duplicate across that boundary (docs/protocol.md, "Streams"), also while a turn is streaming.
 */
@QuarkusTest
class ReplayTest {

    @TestHTTPResource("/ws")
    URI ws;

    /** What one subscription delivered: events before its {@code subscribed} reply, the reply, events after it. */
    record Delivery(long afterSeq, List<JsonNode> replayed, JsonNode subscribed, List<JsonNode> live) {
        long lastSeq() {
            return subscribed.path("lastSeq").asLong();
        }
    }

    /** Sends {@code subscribe} with {@code afterSeq} (none when negative) without waiting; returns the request id. */
    private static String sendSubscribe(WsClient c, String sessionId, long afterSeq) {
        String id = WsClient.nextId();
        if (afterSeq < 0) {
            c.send(WsClient.frame("subscribe", "sessionId", sessionId).put("id", id));
        } else {
            c.send(WsClient.frame("subscribe", "sessionId", sessionId, "afterSeq", afterSeq).put("id", id));
        }
        return id;
    }

    /**
     * Reads what a subscription delivers up to the event with seq {@code untilSeq} (and at least up to its
     * {@code subscribed} reply), split at the reply.
     */
    private static Delivery collect(WsClient c, String sessionId, String subscribeId, long afterSeq, long untilSeq) {
        List<JsonNode> replayed = new ArrayList<>();
        List<JsonNode> live = new ArrayList<>();
        JsonNode subscribed = null;
        long lastSeen = afterSeq;
        while (subscribed == null || lastSeen < untilSeq) {
            JsonNode n = c.await(x -> isEventOf(x, sessionId) || subscribeId.equals(x.path("id").asText(null)));
            if (!isEventOf(n, sessionId)) {
                assertThat(n.path("type").asText()).as("subscribe reply %s", n).isEqualTo("subscribed");
                assertThat(subscribed).as("a second reply to one subscribe").isNull();
                subscribed = n;
                continue;
            }
            (subscribed == null ? replayed : live).add(n);
            lastSeen = Math.max(lastSeen, n.path("seq").asLong());
        }
        return new Delivery(afterSeq, replayed, subscribed, live);
    }

    /**
     * The boundary contract: replayed seqs are exactly afterSeq+1..lastSeq, live seqs exactly lastSeq+1..untilSeq,
     * and every frame is the one the reference subscriber got for that seq.
     */
    private static void assertSeamless(Delivery d, long untilSeq, Map<Long, JsonNode> reference, String label) {
        long lastSeq = d.lastSeq();
        assertThat(lastSeq).as("%s: subscribed.lastSeq", label).isGreaterThanOrEqualTo(Math.min(d.afterSeq(), untilSeq));
        assertThat(seqs(d.replayed())).as("%s: replayed (afterSeq %d, lastSeq %d)", label, d.afterSeq(), lastSeq)
                .allMatch(s -> s <= lastSeq)
                .containsExactlyElementsOf(seqRange(d.afterSeq() + 1, lastSeq));
        assertThat(seqs(d.live())).as("%s: live after lastSeq %d", label, lastSeq)
                .allMatch(s -> s > lastSeq)
                .containsExactlyElementsOf(seqRange(lastSeq + 1, untilSeq));
        for (JsonNode e : d.replayed()) {
            assertThat(e).as("%s: replayed frame", label).isEqualTo(reference.get(e.path("seq").asLong()));
        }
        for (JsonNode e : d.live()) {
            assertThat(e).as("%s: live frame", label).isEqualTo(reference.get(e.path("seq").asLong()));
        }
    }

    private static Map<Long, JsonNode> bySeq(List<JsonNode> events) {
        Map<Long, JsonNode> out = new HashMap<>();
        for (JsonNode e : events) {
            assertThat(out.put(e.path("seq").asLong(), e)).as("duplicate seq %s", e.path("seq")).isNull();
        }
        return out;
    }

    /** Runs turns with a live subscriber on a fresh session and returns every event, seq 1..n. */
    private List<JsonNode> sessionWithTurns(WsClient c, String sessionId, String... prompts) {
        assertThat(c.request("subscribe", "sessionId", sessionId).path("lastSeq").asLong()).isZero();
        List<JsonNode> all = new ArrayList<>();
        for (String prompt : prompts) {
            all.addAll(c.runTurn(sessionId, prompt));
        }
        assertThat(seqs(all)).containsExactlyElementsOf(seqRange(1, all.size()));
        return all;
    }

    @Test
    void replayFromZeroSendsEveryStoredEventInOrderThenSubscribed() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE);
                WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
            String sid = alice.createSession("replay all");
            // more than one replay page (500 events)
            List<JsonNode> all = sessionWithTurns(alice, sid, "replay me", "/sim tokens=1200", "/sim tool");
            long last = all.size();

            String id = sendSubscribe(bob, sid, 0);
            Delivery d = collect(bob, sid, id, 0, last);

            assertThat(d.replayed()).containsExactlyElementsOf(all);
            assertThat(d.live()).isEmpty();
            assertThat(d.lastSeq()).isEqualTo(last);
            assertThat(d.subscribed().path("sessionId").asText()).isEqualTo(sid);
            assertThat(d.subscribed().path("status").asText()).isEqualTo("idle");
            assertThat(d.subscribed().path("epoch").asText()).isNotBlank();

            alice.sendMessage(sid, "/sim tokens=2");
            List<JsonNode> next = bob.eventsUntilTurnEnds(sid);
            assertThat(seqs(next)).containsExactlyElementsOf(seqRange(last + 1, last + next.size()));
        }
    }

    @Test
    void replayFromKSendsExactlyTheLaterSeqs() {
        try (WsClient alice = WsClient.authenticated(ws, Keys.ALICE)) {
            String sid = alice.createSession("replay tail");
            List<JsonNode> all = sessionWithTurns(alice, sid, "one", "/sim tokens=30");
            long last = all.size();
            Map<Long, JsonNode> reference = bySeq(all);

            for (long k : new long[] {1, 7, last - 1, last}) {
                try (WsClient bob = WsClient.authenticated(ws, Keys.BOB)) {
                    String id = sendSubscribe(bob, sid, k);
                    Delivery d = collect(bob, sid, id, k, last);
                    assertSeamless(d, last, reference, "afterSeq " + k);
                    assertThat(d.lastSeq()).isEqualTo(last);
                    assertThat(d.replayed()).hasSize((int) (last - k));
                    assertThat(bob.request("ping").path("type").asText()).isEqualTo("pong");
                    assertThat(bob.drain()).as("nothing more after afterSeq %d", k).noneMatch(n -> isEventOf(n, sid));
                }
            }
        }
    }

    @Test
    void subscribersRacingAFastTurnGetNoGapAndNoDuplicate() {
        // long enough that the subscribes land while it streams: since the outbox, 3,000 deltas could end first
        raceSubscribersAgainstALiveTurn("/sim tokens=10000 delay_ms=0", 20, 60);
    }

    @Test
    void subscribersRacingAPacedTurnGetNoGapAndNoDuplicate() {
        raceSubscribersAgainstALiveTurn("/sim tokens=400 delay_ms=1", 20, 12);
    }

    /**
     * While {@code prompt} streams, fresh connections subscribe one after another with {@code afterSeq} 0, the seq
     * the observer last saw, or half of it; each must then get exactly afterSeq+1 .. the terminal event.
     */
    private void raceSubscribersAgainstALiveTurn(String prompt, int rounds, int readPerRound) {
        List<WsClient> late = new ArrayList<>();
        try (WsClient observer = WsClient.authenticated(ws, Keys.ALICE)) {
            for (int i = 0; i < rounds; i++) {
                late.add(WsClient.authenticated(ws, i % 2 == 0 ? Keys.BOB : Keys.ALICE));
            }
            String sid = observer.createSession("race " + prompt);
            observer.subscribe(sid);
            observer.send(WsClient.frame("send_message", "sessionId", sid, "text", prompt).put("id", WsClient.nextId()));

            List<JsonNode> observed = new ArrayList<>();
            long[] afterSeqs = new long[rounds];
            String[] ids = new String[rounds];
            for (int i = 0; i < rounds; i++) {
                for (int k = 0; k < readPerRound && (observed.isEmpty() || !isTerminal(observed.get(observed.size() - 1))); k++) {
                    observed.add(observer.await(n -> isEventOf(n, sid)));
                }
                long lastSeen = observed.isEmpty() ? 0 : observed.get(observed.size() - 1).path("seq").asLong();
                afterSeqs[i] = switch (i % 4) {
                    case 0 -> 0;
                    case 2 -> lastSeen / 2;
                    default -> lastSeen;
                };
                ids[i] = sendSubscribe(late.get(i), sid, afterSeqs[i]);
            }
            if (!isTerminal(observed.get(observed.size() - 1))) {
                observed.addAll(observer.eventsUntilTurnEnds(sid));
            }
            long terminalSeq = observed.get(observed.size() - 1).path("seq").asLong();
            assertThat(seqs(observed)).as("the observer's own live stream").containsExactlyElementsOf(seqRange(1, terminalSeq));
            Map<Long, JsonNode> reference = bySeq(observed);

            int crossed = 0;
            List<Long> boundaries = new ArrayList<>();
            for (int i = 0; i < rounds; i++) {
                Delivery d = collect(late.get(i), sid, ids[i], afterSeqs[i], terminalSeq);
                assertSeamless(d, terminalSeq, reference, "subscriber " + i + " afterSeq " + afterSeqs[i]);
                boundaries.add(d.lastSeq());
                if (d.lastSeq() < terminalSeq) {
                    crossed++;
                }
            }
            assertThat(crossed).as("subscribers that joined while the turn was still streaming: %s", boundaries)
                    .isPositive();
        } finally {
            late.forEach(WsClient::close);
        }
    }

    @Test
    void resubscribingOnAnIdleSessionReplacesTheOldSubscription() {
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String sid = c.createSession("resubscribe idle");
            List<JsonNode> all = sessionWithTurns(c, sid, "/sim tokens=12");
            long last = all.size();

            String id = sendSubscribe(c, sid, 5);
            Delivery d = collect(c, sid, id, 5, last);
            assertSeamless(d, last, bySeq(all), "resubscribe afterSeq 5");

            c.sendMessage(sid, "/sim tokens=25");
            List<JsonNode> next = c.eventsUntilTurnEnds(sid);
            assertThat(seqs(next)).as("each live event once, not once per subscription")
                    .containsExactlyElementsOf(seqRange(last + 1, last + next.size()));
            assertThat(c.request("ping").path("type").asText()).isEqualTo("pong");
            assertThat(c.drain()).noneMatch(n -> isEventOf(n, sid));
        }
    }

    @Test
    void resubscribingWhileATurnStreamsRestartsFromAfterSeqWithoutDuplicatingTheNewStream() {
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String sid = c.createSession("resubscribe live");
            c.subscribe(sid);
            c.send(WsClient.frame("send_message", "sessionId", sid, "text", "/sim tokens=400 delay_ms=1")
                    .put("id", WsClient.nextId()));
            List<JsonNode> before = new ArrayList<>();
            while (before.size() < 40) {
                before.add(c.await(n -> isEventOf(n, sid)));
            }
            assertThat(seqs(before)).containsExactlyElementsOf(seqRange(1, 40));

            String id = sendSubscribe(c, sid, 40);
            // Frames the old subscription sent before the server handled the resubscribe come first (seq 41..x),
            // then the new subscription's replay from 41, its reply, and its live frames.
            List<JsonNode> afterRequest = new ArrayList<>();
            JsonNode subscribed = null;
            while (true) {
                JsonNode n = c.await(x -> isEventOf(x, sid) || id.equals(x.path("id").asText(null)));
                if (!isEventOf(n, sid)) {
                    subscribed = n;
                    break;
                }
                afterRequest.add(n);
            }
            assertThat(subscribed.path("type").asText()).isEqualTo("subscribed");
            long lastSeq = subscribed.path("lastSeq").asLong();
            List<Long> s = seqs(afterRequest);
            int restart = 0;
            for (int i = 1; i < s.size(); i++) {
                if (s.get(i) <= s.get(i - 1)) {
                    assertThat(restart).as("only one restart of the sequence in %s", s).isZero();
                    restart = i;
                }
            }
            List<Long> oldTail = s.subList(0, restart);
            List<Long> replayed = s.subList(restart, s.size());
            assertThat(oldTail).containsExactlyElementsOf(seqRange(41, 40 + oldTail.size()));
            assertThat(replayed).as("the new subscription's replay").containsExactlyElementsOf(seqRange(41, lastSeq));

            List<JsonNode> live = c.eventsUntilTurnEnds(sid);
            assertThat(seqs(live)).as("live frames after the new subscribed reply")
                    .containsExactlyElementsOf(seqRange(lastSeq + 1, lastSeq + live.size()));
            assertThat(c.request("ping").path("type").asText()).isEqualTo("pong");
            assertThat(c.drain()).noneMatch(n -> isEventOf(n, sid));
        }
    }

    @Test
    void aSubscribeReplacedDuringItsReplayIsStillAnswered() {
        try (WsClient c = WsClient.authenticated(ws, Keys.ALICE)) {
            String sessionId = c.createSession("replaced replay");
            c.request("subscribe", "sessionId", sessionId);
            c.sendMessage(sessionId, "/sim tokens=3000");
            c.eventsUntilTurnEnds(sessionId);

            String first = sendSubscribe(c, sessionId, 0);
            JsonNode second = c.request("subscribe", "sessionId", sessionId, "afterSeq", 2999);
            assertThat(second.path("type").asText()).isEqualTo("subscribed");
            JsonNode firstReply = c.await(n -> first.equals(n.path("id").asText(null)));
            assertThat(firstReply.path("type").asText()).isIn("subscribed", "unsubscribed");
            if ("unsubscribed".equals(firstReply.path("type").asText())) {
                assertThat(firstReply.path("reason").asText()).isEqualTo("replaced");
            }
        }
    }
}

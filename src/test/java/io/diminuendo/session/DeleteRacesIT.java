package io.diminuendo.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.Events;
import io.diminuendo.support.GatewayProcess;
import io.diminuendo.support.WsClient;

/**
 * {@code delete_session} raced against every other request on the same session, from two connections in the same
 * instant, hundreds of times, on the packaged gateway: a confirmed delete is never undone (also not after a
 * restart), deletion frees the connection's subscription slots, a subscribe never reports a {@code lastSeq} its
 * replay did not reach and nothing follows {@code unsubscribed {reason: session_deleted}}, and a cancel is
 * {@code cancel_requested} or {@code not_found}, never {@code conflict}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DeleteRacesIT {
    private static final int RACES = 300;
    /** Subscribe-against-delete races: each streams a turn first, so fewer than the others, still hundreds. */
    private static final int REPLAY_RACES = 200;
    private static final int SUBSCRIPTIONS = 16;
    private static final String[] LIMITS = {"-Ddiminuendo.limits.frames-per-second=100000",
            "-Ddiminuendo.limits.frame-burst=100000",
            "-Ddiminuendo.limits.max-subscriptions-per-connection=" + SUBSCRIPTIONS};

    private static Path db;
    private static GatewayProcess gateway;
    /** Sessions whose delete was confirmed, over all tests: none may exist after the restart. */
    private static final Set<String> deleted = ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void start() throws Exception {
        db = GatewayProcess.freshDb();
        gateway = GatewayProcess.start(db, "delete-races", LIMITS);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
    }

    private WsClient client() {
        return WsClient.authenticated(gateway.ws(), GatewayProcess.API_KEY);
    }

    /** Sends a request without waiting for its reply; returns its id. */
    private static String send(WsClient c, String type, Object... fields) {
        String id = WsClient.nextId();
        c.send(WsClient.frame(type, fields).put("id", id));
        return id;
    }

    private static String type(JsonNode frame) {
        return frame.path("type").asText();
    }

    private static String errorCode(JsonNode frame) {
        return frame.path("code").asText();
    }

    @Test
    @Order(1)
    void anUpdateOrArchiveRacingADeleteIsConfirmedBeforeTheDeleteOrNotAtAll() throws Exception {
        try (WsClient a = client(); WsClient b = client(); WsClient observer = client()) {
            List<String> ids = new ArrayList<>();
            int updatesConfirmed = 0;
            int updatesRefused = 0;
            for (int i = 0; i < RACES; i++) {
                String id = a.createSession("race " + i);
                ids.add(id);
                boolean archive = i % 2 == 1;
                String change = archive ? send(a, "archive_session", "sessionId", id)
                        : send(a, "update_session", "sessionId", id, "title", "renamed " + i);
                String delete = send(b, "delete_session", "sessionId", id);
                JsonNode changed = a.reply(change);
                JsonNode gone = b.reply(delete);
                assertThat(type(gone)).as("the delete of %s", id).isEqualTo("session_deleted");
                deleted.add(id);
                if (type(changed).equals("error")) {
                    assertThat(errorCode(changed)).as("an update decided after the delete").isEqualTo("not_found");
                    updatesRefused++;
                } else {
                    assertThat(type(changed)).isEqualTo(archive ? "session_archived" : "session_updated");
                    updatesConfirmed++;
                }
            }
            // every session's tenant events, as one connection of the tenant saw them: nothing after the deletion.
            // A delete is confirmed to its caller just before the tenant hears of it, so collect until every
            // deletion has arrived, then a ping's round trip more
            Map<String, List<String>> seen = new ConcurrentHashMap<>();
            Set<String> deletedSeen = new HashSet<>();
            while (deletedSeen.size() < ids.size()) {
                JsonNode f = observer.await(n -> type(n).equals("tenant_event"));
                String sid = f.path("session").path("id").asText(f.path("sessionId").asText());
                seen.computeIfAbsent(sid, k -> new ArrayList<>()).add(f.path("event").asText());
                if (f.path("event").asText().equals("session_deleted")) {
                    deletedSeen.add(sid);
                }
            }
            JsonNode pong = observer.request("ping");
            assertThat(type(pong)).isEqualTo("pong");
            for (JsonNode f : observer.drain()) {
                if (type(f).equals("tenant_event")) {
                    String sid = f.path("session").path("id").asText(f.path("sessionId").asText());
                    seen.computeIfAbsent(sid, k -> new ArrayList<>()).add(f.path("event").asText());
                }
            }
            for (String id : ids) {
                List<String> events = seen.getOrDefault(id, List.of());
                assertThat(events).as("tenant events of %s", id).contains("session_deleted");
                assertThat(events.get(events.size() - 1)).as("tenant events of %s: %s", id, events)
                        .isEqualTo("session_deleted");
                assertThat(a.request("get_session", "sessionId", id).path("code").asText()).isEqualTo("not_found");
            }
            assertThat(updatesConfirmed + updatesRefused).isEqualTo(RACES);
        }
    }

    @Test
    @Order(2)
    void deletingSubscribedSessionsFreesTheConnectionsSubscriptionSlots() {
        try (WsClient reader = client(); WsClient owner = client()) {
            for (int round = 0; round < 3; round++) {
                List<String> ids = new ArrayList<>();
                for (int i = 0; i < SUBSCRIPTIONS; i++) {
                    String id = owner.createSession("slot " + i);
                    ids.add(id);
                    reader.subscribe(id);
                }
                String extra = owner.createSession("one too many");
                assertThat(errorCode(reader.request("subscribe", "sessionId", extra))).isEqualTo("rate_limited");
                for (String id : ids) {
                    assertThat(type(owner.request("delete_session", "sessionId", id))).isEqualTo("session_deleted");
                    deleted.add(id);
                }
                for (String id : ids) {
                    JsonNode notice = reader.await(f -> type(f).equals("unsubscribed")
                            && f.path("sessionId").asText().equals(id));
                    assertThat(notice.path("reason").asText()).isEqualTo("session_deleted");
                }
                // every slot is free again, without reconnecting
                reader.subscribe(extra);
                assertThat(type(reader.request("unsubscribe", "sessionId", extra))).isEqualTo("unsubscribed");
                assertThat(type(owner.request("delete_session", "sessionId", extra))).isEqualTo("session_deleted");
                deleted.add(extra);
            }
        }
    }

    @Test
    @Order(3)
    void aSubscribeRacingADeleteNeverContradictsItsReplayAndNothingFollowsTheNotice() {
        try (WsClient owner = client(); WsClient reader = client(); WsClient deleter = client()) {
            int subscribedFirst = 0;
            for (int i = 0; i < REPLAY_RACES; i++) {
                String id = owner.createSession("replay race " + i);
                owner.subscribe(id);
                boolean streaming = i % 2 == 1;
                if (streaming) {
                    owner.sendMessage(id, "/sim tokens=20000 delay_ms=0");
                    owner.await(f -> Events.isEventOf(f, id) && f.path("seq").asLong() >= 100);
                } else {
                    owner.runTurn(id, "/sim tokens=1500 delay_ms=0");
                }
                String subscribe = send(reader, "subscribe", "sessionId", id, "afterSeq", 0);
                String delete = send(deleter, "delete_session", "sessionId", id);
                assertThat(type(deleter.reply(delete))).isEqualTo("session_deleted");
                deleted.add(id);
                owner.await(f -> type(f).equals("unsubscribed") && f.path("sessionId").asText().equals(id));
                owner.drain();

                List<JsonNode> frames = framesOf(reader, id, subscribe);
                // what the reader got: events 1..n in order, then subscribed (lastSeq n) and the deletion notice,
                // or the notice as the answer to the subscribe, or not_found
                List<Long> seqs = new ArrayList<>();
                int replayed = 0;
                JsonNode answer = null;
                JsonNode notice = null;
                for (JsonNode f : frames) {
                    if (notice != null) {
                        throw new AssertionError("frame after the deletion notice of " + id + ": " + f);
                    }
                    if (type(f).equals("event")) {
                        seqs.add(f.path("seq").asLong());
                        if (answer == null) {
                            replayed++;
                        }
                    } else if (subscribe.equals(f.path("id").asText(null))) {
                        answer = f;
                        if (type(f).equals("unsubscribed") || type(f).equals("error")) {
                            notice = f;
                        }
                    } else if (type(f).equals("unsubscribed")) {
                        notice = f;
                    }
                }
                assertThat(answer).as("the subscribe to %s is answered", id).isNotNull();
                assertThat(seqs).as("replayed events of %s", id).isEqualTo(Events.seqRange(1, seqs.size()));
                switch (type(answer)) {
                    case "subscribed" -> {
                        subscribedFirst++;
                        assertThat(answer.path("lastSeq").asLong()).as("lastSeq of %s", id).isEqualTo(replayed);
                        assertThat(notice).as("the deletion notice of %s", id).isNotNull();
                        assertThat(notice.path("reason").asText()).isEqualTo("session_deleted");
                    }
                    case "unsubscribed" -> assertThat(answer.path("reason").asText()).isEqualTo("session_deleted");
                    case "error" -> {
                        assertThat(errorCode(answer)).isEqualTo("not_found");
                        assertThat(seqs).isEmpty();
                    }
                    default -> throw new AssertionError("unexpected answer to subscribe: " + answer);
                }
            }
            assertThat(subscribedFirst).as("races where the subscribe went live before the delete").isLessThan(REPLAY_RACES);
        }
    }

    /** A frame of the session's subscription: its events and the {@code unsubscribed} notice (not tenant events). */
    private static boolean ofStream(JsonNode f, String id) {
        return id.equals(f.path("sessionId").asText(null)) && !type(f).equals("tenant_event");
    }

    /**
     * The reader's frames about {@code id} and the answer to {@code subscribe}, in order, collected (ping by ping)
     * until the subscription has ended: answered with an error or {@code unsubscribed}, or told of the deletion.
     */
    private static List<JsonNode> framesOf(WsClient reader, String id, String subscribe) {
        List<JsonNode> out = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            String ping = send(reader, "ping");
            reader.await(f -> ping.equals(f.path("id").asText(null)));
            boolean ended = false;
            for (JsonNode f : reader.drain()) {
                boolean answer = subscribe.equals(f.path("id").asText(null));
                if (answer || ofStream(f, id)) {
                    out.add(f);
                    ended |= answer && !type(f).equals("subscribed") || !answer && type(f).equals("unsubscribed");
                }
            }
            if (ended) {
                // a little longer: anything still sent after the end would be a violation
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                String last = send(reader, "ping");
                reader.await(f -> last.equals(f.path("id").asText(null)));
                reader.drain().stream().filter(f -> ofStream(f, id)).forEach(out::add);
                return out;
            }
        }
        throw new AssertionError("the subscription to " + id + " did not end; got " + out.size() + " frames");
    }

    @Test
    @Order(4)
    void aCancelRacingADeleteIsCancelRequestedOrNotFound() {
        try (WsClient owner = client(); WsClient canceller = client()) {
            Map<String, Integer> answers = new ConcurrentHashMap<>();
            for (int i = 0; i < RACES; i++) {
                String id = owner.createSession("cancel race " + i);
                owner.sendMessage(id, "/sim hang");
                String cancel = send(canceller, "cancel_turn", "sessionId", id);
                String delete = send(owner, "delete_session", "sessionId", id);
                assertThat(type(owner.reply(delete))).isEqualTo("session_deleted");
                deleted.add(id);
                JsonNode answer = canceller.reply(cancel);
                String outcome = type(answer).equals("error") ? errorCode(answer) : type(answer);
                assertThat(outcome).as("the cancel in %s", id).isIn("cancel_requested", "not_found");
                answers.merge(outcome, 1, Integer::sum);
            }
            assertThat(answers.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(RACES);
        }
    }

    @Test
    @Order(5)
    void afterARestartNoDeletedSessionIsBack() throws Exception {
        assertThat(deleted).hasSizeGreaterThan(RACES);
        assertThat(gateway.stop()).as("clean stop").isTrue();
        gateway = GatewayProcess.start(db, "delete-races-restarted", LIMITS);
        try (WsClient c = client()) {
            Set<String> listed = new HashSet<>();
            String cursor = null;
            do {
                JsonNode page = cursor == null ? c.request("list_sessions", "limit", 100)
                        : c.request("list_sessions", "limit", 100, "cursor", cursor);
                page.path("items").forEach(s -> listed.add(s.path("id").asText()));
                cursor = page.path("nextCursor").isTextual() ? page.path("nextCursor").asText() : null;
            } while (cursor != null);
            assertThat(listed).as("deleted sessions listed after the restart").doesNotContainAnyElementsOf(deleted);
            for (String id : List.copyOf(deleted).subList(0, 20)) {
                assertThat(errorCode(c.request("get_session", "sessionId", id))).isEqualTo("not_found");
            }
        }
    }
}

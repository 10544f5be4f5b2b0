package io.diminuendo.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.support.GatewayProcess;
import io.diminuendo.support.WsClient;

/**
 * Fifty readers of one session while a 200,000-event turn streams with no delay, on the packaged gateway with its
 * production limits but a small outbound queue, each reader parsing every frame as a client would: readers that cannot keep up live fall behind and catch up from the store, and every one of them
 * gets every event of the turn once, in order, without being cut (before, all fifty were closed with 4009).
 */
class FastTurnReadersIT {
    private static final int READERS = 50;
    private static final int TOKENS = 200_000;
    /** A small outbound queue, so that a reader a little behind the turn fills it (the default holds 8,192). */
    private static final int QUEUE = 512;

    @Test
    void fiftyReadersOfAZeroDelayTurnAreNeverCutAndGetEveryEventOnce() throws Exception {
        try (GatewayProcess gateway = GatewayProcess.start(GatewayProcess.freshDb(), "fast-turn-readers",
                "-Ddiminuendo.limits.outbound-queue=" + QUEUE);
                WsClient driver = WsClient.authenticated(gateway.ws(), GatewayProcess.API_KEY)) {
            String sessionId = driver.createSession("fast turn");
            HttpClient http = HttpClient.newHttpClient();
            List<Reader> readers = new ArrayList<>();
            for (int i = 0; i < READERS; i++) {
                readers.add(Reader.open(http, gateway.ws(), sessionId));
            }
            for (Reader r : readers) {
                r.subscribed.get(10, TimeUnit.SECONDS);
            }
            driver.sendMessage(sessionId, "/sim tokens=" + TOKENS + " delay_ms=0");
            for (Reader r : readers) {
                r.done.get(240, TimeUnit.SECONDS);
            }
            double behind = gateway.metric("diminuendo_subscriptions_behind_catch_ups_total", "");
            double cut = gateway.metric("diminuendo_connections_slow_consumer_closes_total", "");
            for (Reader r : readers) {
                assertThat(r.failure).as("reader %d", readers.indexOf(r)).isNull();
                assertThat(r.closeCode).as("reader %d was closed", readers.indexOf(r)).isZero();
                // user_message, turn_started, the text deltas, usage and turn_completed, from seq 1 on
                assertThat(r.lastSeq).as("reader %d's last seq", readers.indexOf(r)).isGreaterThan(TOKENS);
                assertThat(r.events).isEqualTo(r.lastSeq);
            }
            assertThat(cut).as("slow-consumer closes").isZero();
            assertThat(behind).as("readers that fell behind and caught up from the store").isPositive();
            for (Reader r : readers) {
                r.ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
            }
        }
    }

    /**
     * A reader that parses each frame (as a client does), reads the seq of each event, and fails on the first gap or duplicate;
     * done at the turn's terminal event.
     */
    static final class Reader implements WebSocket.Listener {
        private static final ObjectMapper JSON = new ObjectMapper();
        final CompletableFuture<Void> subscribed = new CompletableFuture<>();
        final CompletableFuture<Void> done = new CompletableFuture<>();
        private final StringBuilder partial = new StringBuilder();
        private final String sessionId;
        WebSocket ws;
        volatile long lastSeq;
        volatile long events;
        volatile int closeCode;
        volatile String failure;

        private Reader(String sessionId) {
            this.sessionId = sessionId;
        }

        static Reader open(HttpClient http, URI uri, String sessionId) {
            Reader r = new Reader(sessionId);
            r.ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5)).buildAsync(uri, r).join();
            r.ws.sendText("{\"type\":\"authenticate\",\"id\":\"a\",\"token\":\"" + GatewayProcess.API_KEY + "\"}", true)
                    .join();
            r.ws.sendText("{\"type\":\"subscribe\",\"id\":\"s\",\"sessionId\":\"" + sessionId + "\"}", true).join();
            return r;
        }

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                frame(partial.toString());
                partial.setLength(0);
            }
            socket.request(1);
            return null;
        }

        private void frame(String f) {
            try {
                JSON.readTree(f);
            } catch (IOException e) {
                failure = "unparseable frame " + f;
            }
            if (f.startsWith("{\"type\":\"subscribed\"")) {
                subscribed.complete(null);
                return;
            }
            if (!f.startsWith("{\"type\":\"event\"") || !f.contains(sessionId)) {
                return;
            }
            int at = f.indexOf("\"seq\":") + 6;
            int end = at;
            while (Character.isDigit(f.charAt(end))) {
                end++;
            }
            long seq = Long.parseLong(f, at, end, 10);
            if (seq != lastSeq + 1 && failure == null) {
                failure = "seq " + seq + " after " + lastSeq;
                done.complete(null);
            }
            lastSeq = seq;
            events++;
            if (f.contains("\"kind\":\"turn_completed\"") || f.contains("\"kind\":\"turn_failed\"")) {
                done.complete(null);
            }
        }

        @Override
        public CompletionStage<?> onClose(WebSocket socket, int statusCode, String reason) {
            closeCode = statusCode;
            done.complete(null);
            return null;
        }

        @Override
        public void onError(WebSocket socket, Throwable error) {
            failure = String.valueOf(error);
            done.complete(null);
        }
    }
}

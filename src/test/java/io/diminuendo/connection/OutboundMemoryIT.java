package io.diminuendo.connection;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.GatewayProcess;
import io.diminuendo.support.RawWebSocket;
import io.diminuendo.support.WsClient;

/**
 * A client that asks for large history pages and reads none of them must not grow the gateway past its pod's memory
 * limit. The packaged gateway runs with a 256 MiB heap (as under deploy/statefulset.yaml's 512 MiB limit); one
 * hostile client sends 150 {@code history} requests of 1000 events (≈ 3.7 MiB each without a byte cap) on a long
 * session and never reads, while three other clients stream turns. The process RSS must stay under 512 MiB, the
 * hostile client must be refused or cut, and the others must get every event of their turns.
 * <p>
 * Before outbound bytes were bounded, the hostile client's replies piled up in its outbound queue (150 frames, far
 * below the 8,192-frame bound): see the commit message for the RSS measured then.
 */
class OutboundMemoryIT {
    private static final long LIMIT_BYTES = 512L * 1024 * 1024;
    /** A prompt of ≈ 90 KB: each turn stores one large {@code user_message} and {@link #TOKENS} + 3 small events. */
    private static final String PADDING = " pad".repeat(22_500);
    private static final int TOKENS = 20;
    private static final int TURNS = 44;
    private static final int HISTORY_REQUESTS = 150;
    private static final int STREAMERS = 3;
    private static final int STREAMED_TURNS = 4;
    private static final int STREAMED_TOKENS = 2_000;

    @Test
    void aClientThatRequestsLargeHistoryPagesAndReadsNothingIsCutOrRefusedAndTheProcessStaysUnderItsMemoryLimit()
            throws Exception {
        Path db = GatewayProcess.freshDb();
        try (GatewayProcess gw = GatewayProcess.start(db, "outbound-memory", "-Xmx256m");
                WsClient driver = WsClient.authenticated(gw.ws(), GatewayProcess.API_KEY)) {
            String longSession = driver.createSession("long history");
            driver.subscribe(longSession);
            for (int i = 0; i < TURNS; i++) {
                driver.runTurn(longSession, "/sim tokens=" + TOKENS + " delay_ms=0" + PADDING);
            }
            long stored = driver.request("get_session", "sessionId", longSession).path("session").path("lastSeq").asLong();
            assertThat(stored).as("events in the long session").isGreaterThanOrEqualTo(1000);

            RssSampler rss = new RssSampler(gw.pid());
            rss.start();
            ExecutorService pool = Executors.newFixedThreadPool(STREAMERS);
            try (RawWebSocket hostile = RawWebSocket.connect(gw.ws(), 4096)) {
                hostile.authenticate(GatewayProcess.API_KEY);
                List<Future<List<List<JsonNode>>>> streamers = new ArrayList<>();
                for (int s = 0; s < STREAMERS; s++) {
                    streamers.add(pool.submit(() -> streamTurns(gw)));
                }
                long floodStarted = System.nanoTime();
                for (int i = 0; i < HISTORY_REQUESTS; i++) {
                    hostile.sendText("{\"type\":\"history\",\"id\":\"h" + i + "\",\"sessionId\":\"" + longSession
                            + "\",\"afterSeq\":0,\"limit\":1000}");
                }
                for (Future<List<List<JsonNode>>> f : streamers) {
                    for (List<JsonNode> turn : f.get(5, TimeUnit.MINUTES)) {
                        assertWholeTurn(turn);
                    }
                }
                // give the gateway time to answer (or refuse) every request the hostile client sent
                long left = Duration.ofSeconds(30).toNanos() - (System.nanoTime() - floodStarted);
                if (left > 0) {
                    TimeUnit.NANOSECONDS.sleep(left);
                }
                rss.stop();
                double refused = gw.metric("diminuendo_limit_hits_total", "limit=\"history_wait\"");
                double cut = gw.metric("diminuendo_connections_slow_consumer_closes_total", "");
                System.out.printf("RSS at start %d MiB, peak %d MiB; history requests refused %.0f, slow consumers cut %.0f%n",
                        rss.first() >> 20, rss.peak() >> 20, refused, cut);
                assertThat(rss.peak()).as("peak RSS (bytes) with a 256 MiB heap").isLessThan(LIMIT_BYTES);
                assertThat(refused + cut).as("history requests refused plus connections cut with 4009").isPositive();
            } finally {
                pool.shutdownNow();
                rss.stop();
            }
        }
    }

    /** One streaming client: its own session, turns back to back; the events of each turn. */
    private static List<List<JsonNode>> streamTurns(GatewayProcess gw) {
        try (WsClient c = WsClient.authenticated(gw.ws(), GatewayProcess.API_KEY)) {
            String session = c.createSession("streaming");
            c.subscribe(session);
            List<List<JsonNode>> turns = new ArrayList<>();
            for (int i = 0; i < STREAMED_TURNS; i++) {
                turns.add(c.runTurn(session, "/sim tokens=" + STREAMED_TOKENS + " delay_ms=0"));
            }
            return turns;
        }
    }

    /** user_message, turn_started, every delta, usage, turn_completed, with contiguous seqs. */
    private static void assertWholeTurn(List<JsonNode> turn) {
        assertThat(turn).as("events of a streamed turn").hasSize(STREAMED_TOKENS + 4);
        assertThat(turn.get(turn.size() - 1).path("kind").asText()).isEqualTo("turn_completed");
        long first = turn.get(0).path("seq").asLong();
        for (int i = 0; i < turn.size(); i++) {
            assertThat(turn.get(i).path("seq").asLong()).as("seq at position %d", i).isEqualTo(first + i);
        }
    }

    /** Reads VmRSS of a process every 50 ms and keeps the first and the largest value. */
    private static final class RssSampler implements Runnable {
        private final Path status;
        private final AtomicLong first = new AtomicLong(-1);
        private final AtomicLong peak = new AtomicLong();
        private final Thread thread = new Thread(this, "rss-sampler");
        private volatile boolean running = true;

        RssSampler(long pid) {
            this.status = Path.of("/proc", Long.toString(pid), "status");
            thread.setDaemon(true);
        }

        void start() {
            sample();
            thread.start();
        }

        @Override
        public void run() {
            while (running) {
                sample();
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        private void sample() {
            try {
                for (String line : Files.readAllLines(status)) {
                    if (line.startsWith("VmRSS:")) {
                        long bytes = Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                        first.compareAndSet(-1, bytes);
                        peak.accumulateAndGet(bytes, Math::max);
                    }
                }
            } catch (IOException e) {
                running = false; // the process is gone
            }
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join(1_000);
        }

        long first() {
            return first.get();
        }

        long peak() {
            return peak.get();
        }
    }
}

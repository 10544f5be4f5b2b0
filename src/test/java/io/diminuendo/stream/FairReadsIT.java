package io.diminuendo.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.diminuendo.support.GatewayProcess;
import io.diminuendo.support.WsClient;

/**
 * One tenant floods the store with large {@code history} reads from sixty connections while another tenant
 * reads its own history: the hostile tenant holds at most its share of the read pool ({@code reads-per-tenant}),
 * so the other tenant's reads all succeed and stay within a stated bound (a median under one second and none over
 * three, on two cores shared with the flood), and the hostile reads that cannot start in time are {@code unavailable} with a retry hint,
 * never {@code internal}.
 */
class FairReadsIT {
    private static final String OTHER_KEY = "it-other-key-0123456789";
    private static final int HOSTILE_CONNECTIONS = 60;
    /** The stated bounds: the median and the slowest of the other tenant's reads, on two cores shared with the flood. */
    private static final long MEDIAN_BOUND_MS = 1000;
    private static final long BOUND_MS = 3000;

    @Test
    void aTenantFloodingHistoryReadsCannotPushAnotherTenantsReadPastTheBound() throws Exception {
        try (GatewayProcess gateway = GatewayProcess.start(GatewayProcess.freshDb(), "fair-reads",
                "-Ddiminuendo.limits.frames-per-second=100000", "-Ddiminuendo.limits.frame-burst=100000",
                "-Ddiminuendo.limits.max-connections-per-user=1000",
                "-Ddiminuendo.auth.api-keys.other.key=" + OTHER_KEY, "-Ddiminuendo.auth.api-keys.other.user-id=olga",
                "-Ddiminuendo.auth.api-keys.other.tenant-id=other",
                "-Ddiminuendo.auth.api-keys.other.scopes=sessions:admin");
                WsClient owner = WsClient.authenticated(gateway.ws(), GatewayProcess.API_KEY);
                WsClient victim = WsClient.authenticated(gateway.ws(), OTHER_KEY)) {
            // the hostile tenant's session: 40 prompts of 90,000 chars, a 1 MiB history reply holds about 11 of them
            String large = owner.createSession("large");
            owner.subscribe(large);
            String pad = "x".repeat(90_000);
            for (int i = 0; i < 40; i++) {
                owner.runTurn(large, "/sim tokens=1 delay_ms=0 " + pad);
            }
            String small = victim.createSession("small");
            victim.subscribe(small);
            victim.runTurn(small, "/sim tokens=20 delay_ms=0");

            AtomicBoolean flooding = new AtomicBoolean(true);
            AtomicInteger hostileOk = new AtomicInteger();
            AtomicInteger hostileUnavailable = new AtomicInteger();
            List<String> hostileOther = Collections.synchronizedList(new ArrayList<>());
            ExecutorService pool = Executors.newFixedThreadPool(HOSTILE_CONNECTIONS);
            List<Future<?>> flood = new ArrayList<>();
            for (int i = 0; i < HOSTILE_CONNECTIONS; i++) {
                flood.add(pool.submit(() -> {
                    try (WsClient c = WsClient.authenticated(gateway.ws(), GatewayProcess.API_KEY)) {
                        while (flooding.get()) {
                            JsonNode reply = c.request("history", "sessionId", large, "afterSeq", 0, "limit", 1000);
                            String type = reply.path("type").asText();
                            if (type.equals("history")) {
                                hostileOk.incrementAndGet();
                            } else if (reply.path("code").asText().equals("unavailable")
                                    && reply.path("retryAfterMs").asLong() > 0) {
                                hostileUnavailable.incrementAndGet();
                            } else {
                                hostileOther.add(reply.toString());
                            }
                        }
                    }
                    return null;
                }));
            }
            Thread.sleep(2_000);
            List<Long> millis = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                long start = System.nanoTime();
                JsonNode page = victim.request("history", "sessionId", small, "afterSeq", 0, "limit", 1000);
                millis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                assertThat(page.path("type").asText()).as("the other tenant's history: %s", page).isEqualTo("history");
                assertThat(page.path("events")).hasSizeGreaterThan(20);
                Thread.sleep(50);
            }
            flooding.set(false);
            for (Future<?> f : flood) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();

            Collections.sort(millis);
            System.out.printf("fair reads: other tenant's history p50 %d ms, max %d ms; hostile replies %d ok, %d"
                    + " unavailable%n", millis.get(millis.size() / 2), millis.get(millis.size() - 1), hostileOk.get(),
                    hostileUnavailable.get());
            assertThat(hostileOther).as("hostile replies other than history or unavailable with a retry hint").isEmpty();
            assertThat(hostileOk.get()).as("hostile reads served").isPositive();
            assertThat(millis.get(millis.size() / 2)).as("median of the other tenant's reads, ms").isLessThan(MEDIAN_BOUND_MS);
            assertThat(millis.get(millis.size() - 1)).as("slowest of the other tenant's reads, ms").isLessThan(BOUND_MS);
            assertThat(gateway.metric("diminuendo_limit_hits_total", "limit=\"reads_per_tenant\""))
                    .as("hostile reads that waited for their tenant's turn").isPositive();
            assertThat(gateway.metric("diminuendo_errors_total", "code=\"internal\"")).isZero();
        }
    }
}

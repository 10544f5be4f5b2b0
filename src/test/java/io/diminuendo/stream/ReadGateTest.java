package io.diminuendo.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.diminuendo.metrics.GatewayMetrics;
import io.diminuendo.protocol.ErrorCode;
import io.diminuendo.protocol.ProtocolException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The read gate shares store reads between tenants and connections, and fails a read that waits too long. */
class ReadGateTest {
    private final GatewayMetrics metrics = new GatewayMetrics(new SimpleMeterRegistry());
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    @Test
    void aTenantWithManyReadsHoldsOnlyItsShareAndAnotherTenantsReadStartsAtOnce() throws Exception {
        ReadGate gate = new ReadGate(3, TimeUnit.SECONDS.toNanos(30), metrics);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        List<Future<?>> hostile = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            hostile.add(threads.submit(() -> gate.read("hostile", null, () -> {
                most.accumulateAndGet(running.incrementAndGet(), Math::max);
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                running.decrementAndGet();
                return null;
            })));
        }
        Thread.sleep(200);
        assertThat(running.get()).as("hostile reads running at once").isEqualTo(3);

        long start = System.nanoTime();
        String other = gate.read("other", null, () -> "read");
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(other).isEqualTo("read");
        assertThat(waited).as("ms the other tenant's read waited").isLessThan(100);

        release.countDown();
        for (Future<?> f : hostile) {
            f.get(10, TimeUnit.SECONDS);
        }
        assertThat(most.get()).as("most hostile reads at once").isEqualTo(3);
        assertThat(metrics.limitHits(GatewayMetrics.READS_PER_TENANT)).isPositive();
    }

    @Test
    void aConnectionRunsAtMostItsReadsAtOnce() throws Exception {
        ReadGate gate = new ReadGate(100, TimeUnit.SECONDS.toNanos(30), metrics);
        Semaphore connection = new Semaphore(2, true);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger running = new AtomicInteger();
        List<Future<?>> reads = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            reads.add(threads.submit(() -> gate.read("t", connection, () -> {
                running.incrementAndGet();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return null;
            })));
        }
        Thread.sleep(200);
        assertThat(running.get()).isEqualTo(2);
        release.countDown();
        for (Future<?> f : reads) {
            f.get(10, TimeUnit.SECONDS);
        }
        assertThat(running.get()).isEqualTo(6);
        assertThat(connection.availablePermits()).as("slots given back").isEqualTo(2);
    }

    @Test
    void aReadThatCannotStartInTimeIsUnavailableWithARetryHintAndGivesItsSlotsBack() throws Exception {
        ReadGate gate = new ReadGate(1, TimeUnit.MILLISECONDS.toNanos(100), metrics);
        Semaphore connection = new Semaphore(1, true);
        CountDownLatch release = new CountDownLatch(1);
        Future<?> holder = threads.submit(() -> gate.read("t", null, () -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        }));
        Thread.sleep(100);
        assertThatThrownBy(() -> gate.read("t", connection, () -> "never")).isInstanceOfSatisfying(ProtocolException.class,
                p -> {
                    assertThat(p.code()).isEqualTo(ErrorCode.UNAVAILABLE);
                    assertThat(p.retryAfterMs()).isPositive();
                });
        assertThat(connection.availablePermits()).as("the connection's slot given back").isEqualTo(1);
        assertThat(metrics.limitHits(GatewayMetrics.READ_WAIT)).isEqualTo(1);
        release.countDown();
        holder.get(10, TimeUnit.SECONDS);
        assertThat(gate.read("t", connection, () -> "now")).isEqualTo("now");
    }
}

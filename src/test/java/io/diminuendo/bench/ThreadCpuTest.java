package io.diminuendo.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/** The load client splits a gateway's CPU by what its threads do, read from /proc for a pid. */
class ThreadCpuTest {

    @Test
    void threadNamesAsTheKernelKeepsThemFallIntoTheirGroups() {
        assertThat(ProcessProbe.threadGroup("vert.x-eventloo")).isEqualTo("event loops");
        assertThat(ProcessProbe.threadGroup("diminuendo-writ")).isEqualTo("store writer");
        assertThat(ProcessProbe.threadGroup("diminuendo-chec")).isEqualTo("checkpointer");
        assertThat(ProcessProbe.threadGroup("C2 CompilerThre")).isEqualTo("JIT compilers");
        assertThat(ProcessProbe.threadGroup("C1 CompilerThre")).isEqualTo("JIT compilers");
        assertThat(ProcessProbe.threadGroup("GC Thread#1")).isEqualTo("GC");
        assertThat(ProcessProbe.threadGroup("G1 Conc#0")).isEqualTo("GC");
        assertThat(ProcessProbe.threadGroup("executor-thread")).isEqualTo("other");
        assertThat(ProcessProbe.threadGroup("diminuendo-warm")).isEqualTo("other");
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void aBusyThreadsCpuIsReadAsItsOwnAndInItsGroup() throws Exception {
        long pid = ProcessHandle.current().pid();
        // other tests in this JVM may have left writers of their own (a Quarkus app's, parked): not the one spinning
        Set<Long> before = ProcessProbe.threadCpu(pid).keySet();
        CountDownLatch stop = new CountDownLatch(1);
        Thread busy = new Thread(() -> {
            long x = 0;
            while (stop.getCount() > 0) {
                x += System.nanoTime() ^ x;
            }
            if (x == 42) {
                System.out.print("");
            }
        }, "diminuendo-writer");
        busy.start();
        try {
            // the kernel counts in ticks of 10 ms: spin until the thread has a few of them, however busy the machine
            long tid = -1;
            ProcessProbe.ThreadTime seen = null;
            long deadline = System.nanoTime() + 20_000_000_000L;
            while ((seen == null || seen.nanos() < 50_000_000L) && System.nanoTime() < deadline) {
                Thread.sleep(20);
                for (var e : ProcessProbe.threadCpu(pid).entrySet()) {
                    if (e.getValue().group().equals("store writer") && !before.contains(e.getKey())) {
                        tid = e.getKey();
                        seen = e.getValue();
                    }
                }
            }
            assertThat(seen).as("a thread named like the store's writer, by its id").isNotNull();
            assertThat(seen.nanos()).as("its CPU after spinning").isGreaterThanOrEqualTo(50_000_000L);
            assertThat(tid).as("a thread id of this process").isNotEqualTo(pid);

            Map<Long, ProcessProbe.ThreadTime> threads = ProcessProbe.threadCpu(pid);
            long process = ProcessProbe.cpuNanos(pid);
            long sum = threads.values().stream().mapToLong(ProcessProbe.ThreadTime::nanos).sum();
            assertThat(sum).as("the live threads together: at least the spinning one, at most the process (same unit)")
                    .isGreaterThanOrEqualTo(seen.nanos()).isLessThanOrEqualTo(process + 10_000_000L);
        } finally {
            stop.countDown();
            busy.join();
        }
    }
}

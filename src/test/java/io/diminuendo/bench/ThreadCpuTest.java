package io.diminuendo.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

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
    void aBusyThreadsCpuIsCountedInItsGroup() throws Exception {
        long pid = ProcessHandle.current().pid();
        long before = ProcessProbe.threadCpuNanos(pid).getOrDefault("store writer", 0L);
        Thread busy = new Thread(() -> {
            long until = System.nanoTime() + 300_000_000L;
            long x = 0;
            while (System.nanoTime() < until) {
                x += until ^ x;
            }
            if (x == 42) {
                System.out.print("");
            }
        }, "diminuendo-writer");
        busy.start();
        // read while the thread lives: a thread that ended takes its time with it
        Thread.sleep(250);
        Map<String, Long> during = ProcessProbe.threadCpuNanos(pid);
        busy.join();

        assertThat(during.getOrDefault("store writer", 0L) - before)
                .as("CPU of a thread named like the store's writer after ~250 ms of spinning")
                .isGreaterThanOrEqualTo(100_000_000L);
        assertThat(during.values().stream().mapToLong(Long::longValue).sum())
                .as("the groups together never exceed the process")
                .isLessThanOrEqualTo(ProcessProbe.cpuNanos(pid) + 10_000_000L * during.size());
    }
}

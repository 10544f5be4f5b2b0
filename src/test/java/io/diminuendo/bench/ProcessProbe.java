package io.diminuendo.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Memory of a local process (RSS from {@code /proc/<pid>/status}, Java heap through {@code jcmd}) and its CPU time,
 * in all or per group of threads ({@code /proc/<pid>/task}).
 */
final class ProcessProbe {
    private static final Pattern HEAP_TOTAL = Pattern.compile("(?i)heap\\s+total\\s+(\\d+)K,\\s*used\\s+(\\d+)K");
    private static final Pattern USED = Pattern.compile("used\\s+(\\d+)K");

    private final long pid;

    ProcessProbe(long pid) {
        this.pid = pid;
    }

    /** Resident set size in bytes, or -1 when {@code /proc} has no such process. */
    long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** CPU time (user + system) the process has used so far, in nanoseconds (10 ms resolution), or -1. */
    long cpuNanos() {
        return cpuNanos(pid);
    }

    static long cpuNanos(long pid) {
        try {
            return statCpuNanos(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** User + system time, in nanoseconds, from the text of a process's or a thread's {@code stat} file. */
    private static long statCpuNanos(String stat) {
        // the name before them is between the first '(' and the last ')', and may hold spaces or ')'
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        return ticks * (1_000_000_000L / CLOCK_TICKS);
    }

    /** CPU time (user + system, nanoseconds) one thread has used so far, and its {@link #threadGroup}. */
    record ThreadTime(String group, long nanos) {
    }

    /**
     * The CPU time of each live thread of the process, by thread id (unique on the machine); empty when {@code /proc}
     * has no such process. A thread that ended is no longer listed, its time stays in {@link #cpuNanos(long)}.
     */
    static Map<Long, ThreadTime> threadCpu(long pid) {
        Map<Long, ThreadTime> threads = new HashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            tasks.forEach(task -> {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    threads.put(Long.parseLong(task.getFileName().toString()),
                            new ThreadTime(threadGroup(name), statCpuNanos(stat)));
                } catch (IOException | RuntimeException e) {
                    // the thread ended between the listing and the read
                }
            });
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
        return threads;
    }

    /** The groups of {@link #threadGroup}, in the order the report shows them. */
    static final List<String> THREAD_GROUPS = List.of("event loops", "store writer", "checkpointer", "JIT compilers", "GC",
            "other");

    /**
     * What a gateway thread does, from its name as the kernel keeps it (at most 15 characters): the event loops, the
     * store's writer and checkpointer, the JIT compilers, the garbage collector, or "other" (workers, timers, the
     * JVM's own service threads, and in a report the threads that ended during the interval).
     */
    static String threadGroup(String name) {
        if (name.startsWith("vert.x-eventloo")) {
            return "event loops";
        }
        if (name.startsWith("diminuendo-writ")) {
            return "store writer";
        }
        if (name.startsWith("diminuendo-chec")) {
            return "checkpointer";
        }
        if (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")) {
            return "JIT compilers";
        }
        if (name.startsWith("GC ") || name.startsWith("G1 ")) {
            return "GC";
        }
        return "other";
    }

    /** USER_HZ of /proc/<pid>/stat; 100 on every common Linux build. */
    private static final long CLOCK_TICKS = 100;

    /** Open file descriptors of the process, or -1. */
    long openFiles() {
        try (var s = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return s.count();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Heap in use in bytes (after a full GC when {@code gcFirst}), or -1 if jcmd is missing or fails. */
    long heapUsedBytes(boolean gcFirst) {
        if (gcFirst && jcmd("GC.run") == null) {
            return -1;
        }
        String out = jcmd("GC.heap_info");
        return out == null ? -1 : parseHeapUsed(out);
    }

    static long parseHeapUsed(String heapInfo) {
        Matcher total = HEAP_TOTAL.matcher(heapInfo);
        if (total.find()) {
            return Long.parseLong(total.group(2)) * 1024;
        }
        long sum = 0;
        boolean any = false;
        for (String line : heapInfo.split("\n")) {
            String l = line.strip();
            if (l.startsWith("Metaspace") || l.startsWith("class space")) {
                continue;
            }
            Matcher m = USED.matcher(l);
            if (m.find() && l.contains("total")) {
                sum += Long.parseLong(m.group(1));
                any = true;
            }
        }
        return any ? sum * 1024 : -1;
    }

    private String jcmd(String command) {
        try {
            Process p = new ProcessBuilder("jcmd", Long.toString(pid), command).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return null;
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}

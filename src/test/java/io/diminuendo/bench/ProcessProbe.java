package io.diminuendo.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Memory of a local process: RSS from {@code /proc/<pid>/status}, Java heap through {@code jcmd}. */
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
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            return ticks * (1_000_000_000L / CLOCK_TICKS);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
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

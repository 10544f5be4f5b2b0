package io.diminuendo.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.diminuendo.bench.Report.Kind;
import io.diminuendo.bench.Report.Result;

/**
 * CPU used over an interval by the gateway (with {@code --gateway-pid}; the sum over the pods of a cluster), the backend ({@code --backend-pid}),
 * this client, and the whole machine ({@code /proc/stat}). On a shared machine the wall-clock rates depend on
 * what else runs; CPU per operation does much less, and the machine's busy cores show the contention. The gateway's
 * CPU is also split by what its threads do ({@link ProcessProbe#threadGroup}): where a figure's time goes, without a
 * profiler.
 */
final class CpuMeter {
    private final List<Long> gatewayPids;
    private final Long backendPid;
    private long wall;
    private long gateway;
    private long backend;
    private long client;
    private long machineBusy;
    private long machineTotal;
    private Map<Long, ProcessProbe.ThreadTime> threads = Map.of();
    private final Map<String, Long> dThreads = new HashMap<>();

    private long dWall;
    private long dGateway;
    private long dBackend;
    private long dClient;
    private long dBusy;
    private long dTotal;

    private final String name;

    /** The gateway of {@code t}: its pid, or the sum over its pods' pids. */
    CpuMeter(Target t, Long backendPid) {
        this("gateway", t.gatewayPids(), backendPid);
    }

    /**
     * {@code name} is what the processes {@code gatewayPids} (their CPU summed) are called in the rows ("gateway",
     * or "backend" for the raw baseline).
     */
    CpuMeter(String name, List<Long> gatewayPids, Long backendPid) {
        this.name = name;
        this.gatewayPids = gatewayPids;
        this.backendPid = backendPid;
    }

    void start() {
        long[] m = machine();
        machineBusy = m[0];
        machineTotal = m[1];
        gateway = gatewayPids.isEmpty() ? -1 : gatewayCpu();
        threads = threadCpu();
        backend = backendPid == null ? -1 : ProcessProbe.cpuNanos(backendPid);
        client = clientCpu();
        wall = System.nanoTime();
    }

    /** Adds the interval since {@link #start} to the running totals. */
    void stop() {
        long now = System.nanoTime();
        long[] m = machine();
        dWall += now - wall;
        if (gateway >= 0) {
            long used = gatewayCpu() - gateway;
            dGateway += used;
            // per thread, so that a thread that ends or starts in between does not move its group by its whole life
            Map<Long, ProcessProbe.ThreadTime> before = threads;
            long grouped = 0;
            for (var e : threadCpu().entrySet()) {
                ProcessProbe.ThreadTime then = before.get(e.getKey());
                long byThread = e.getValue().nanos() - (then == null ? 0 : then.nanos());
                dThreads.merge(e.getValue().group(), byThread, Long::sum);
                grouped += byThread;
            }
            // what is left is the interval's share of threads that ended in it (and the ticks' rounding)
            dThreads.merge("other", Math.max(0, used - grouped), Long::sum);
        }
        if (backend >= 0) {
            dBackend += ProcessProbe.cpuNanos(backendPid) - backend;
        }
        dClient += clientCpu() - client;
        dBusy += m[0] - machineBusy;
        dTotal += m[1] - machineTotal;
    }

    long gatewayNanos() {
        return gatewayPids.isEmpty() ? -1 : dGateway;
    }

    private long gatewayCpu() {
        long sum = 0;
        for (long pid : gatewayPids) {
            sum += ProcessProbe.cpuNanos(pid);
        }
        return sum;
    }

    /** The CPU time of each thread of the gateway's pods. */
    private Map<Long, ProcessProbe.ThreadTime> threadCpu() {
        Map<Long, ProcessProbe.ThreadTime> all = new HashMap<>();
        for (long pid : gatewayPids) {
            all.putAll(ProcessProbe.threadCpu(pid));
        }
        return all;
    }

    /**
     * Rows: gateway CPU per operation and operations per gateway CPU-second (when the pid is known), then cores
     * in use by the gateway and by each group of its threads, the backend, the client and the whole machine.
     */
    void report(Result r, String target, long operations, String what, String whats) {
        int cores = Runtime.getRuntime().availableProcessors();
        if (!gatewayPids.isEmpty() && dGateway > 0 && operations > 0) {
            r.add(target, "cpuPerOp", name + " CPU per " + what, dGateway / 1000.0 / operations, Kind.MICROS);
            r.add(target, "perCpuSecond", whats + " per " + name + " CPU-second", operations / (dGateway / 1e9), Kind.RATE);
            r.add(target, "gatewayCores", name + " CPU (cores busy)", dGateway / (double) dWall, Kind.RATIO);
            for (String group : ProcessProbe.THREAD_GROUPS) {
                Long nanos = dThreads.get(group);
                if (nanos != null) {
                    r.add(target, "threadCores." + group.replace(' ', '-'), "… " + group + " (cores busy)",
                            Math.max(0, nanos) / (double) dWall, Kind.RATIO);
                }
            }
        }
        if (backendPid != null && dBackend >= 0) {
            r.add(target, "backendCores", "backend process CPU (cores busy)", dBackend / (double) dWall, Kind.RATIO);
        }
        r.add(target, "clientCores", "load client CPU (cores busy)", dClient / (double) dWall, Kind.RATIO);
        if (dTotal > 0) {
            r.add(target, "machineCores", "whole machine CPU (cores busy, of " + cores + ")",
                    cores * dBusy / (double) dTotal, Kind.RATIO);
        }
    }

    static long clientCpu() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime();
        }
        return 0;
    }

    /** [busy, total] jiffies of all CPUs from the first line of /proc/stat. */
    static long[] machine() {
        try {
            String line = Files.readAllLines(Path.of("/proc/stat")).get(0);
            String[] f = line.trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < Math.min(f.length, 9); i++) {
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            return new long[] {total - idle, total};
        } catch (IOException | RuntimeException e) {
            return new long[] {0, 0};
        }
    }
}

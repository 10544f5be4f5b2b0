package io.diminuendo.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

import io.diminuendo.bench.Report.Kind;
import io.diminuendo.bench.Report.Result;

/**
 * CPU used over an interval by the gateway (with {@code --gateway-pid}), the backend ({@code --backend-pid}),
 * this client, and the whole machine ({@code /proc/stat}). On a shared machine the wall-clock rates depend on
 * what else runs; CPU per operation does much less, and the machine's busy cores show the contention.
 */
final class CpuMeter {
    private final Long gatewayPid;
    private final Long backendPid;
    private long wall;
    private long gateway;
    private long backend;
    private long client;
    private long machineBusy;
    private long machineTotal;

    private long dWall;
    private long dGateway;
    private long dBackend;
    private long dClient;
    private long dBusy;
    private long dTotal;

    private final String name;

    CpuMeter(Long gatewayPid, Long backendPid) {
        this("gateway", gatewayPid, backendPid);
    }

    /** {@code name} is what {@code gatewayPid} is called in the rows ("gateway", or "backend" for the raw baseline). */
    CpuMeter(String name, Long gatewayPid, Long backendPid) {
        this.name = name;
        this.gatewayPid = gatewayPid;
        this.backendPid = backendPid;
    }

    void start() {
        long[] m = machine();
        machineBusy = m[0];
        machineTotal = m[1];
        gateway = gatewayPid == null ? -1 : ProcessProbe.cpuNanos(gatewayPid);
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
            dGateway += ProcessProbe.cpuNanos(gatewayPid) - gateway;
        }
        if (backend >= 0) {
            dBackend += ProcessProbe.cpuNanos(backendPid) - backend;
        }
        dClient += clientCpu() - client;
        dBusy += m[0] - machineBusy;
        dTotal += m[1] - machineTotal;
    }

    long gatewayNanos() {
        return gatewayPid == null ? -1 : dGateway;
    }

    /**
     * Rows: gateway CPU per operation and operations per gateway CPU-second (when the pid is known), then cores
     * in use by the gateway, the backend, the client and the whole machine.
     */
    void report(Result r, String target, long operations, String what, String whats) {
        int cores = Runtime.getRuntime().availableProcessors();
        if (gatewayPid != null && dGateway > 0 && operations > 0) {
            r.add(target, "cpuPerOp", name + " CPU per " + what, dGateway / 1000.0 / operations, Kind.MICROS);
            r.add(target, "perCpuSecond", whats + " per " + name + " CPU-second", operations / (dGateway / 1e9), Kind.RATE);
            r.add(target, "gatewayCores", name + " CPU (cores busy)", dGateway / (double) dWall, Kind.RATIO);
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

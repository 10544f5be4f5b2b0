package io.diminuendo.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Summary of a latency sample set (nanoseconds in, milliseconds out): nearest-rank percentiles, mean, sample stddev. */
record Stats(int count, double p50, double p95, double p99, double mean, double stddev, double min, double max) {

    static final Stats EMPTY = new Stats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);

    /** {@code samples} are durations in {@code unitNanos} (1 for ns, 1000 for µs); only the first {@code n} count. */
    static Stats of(long[] samples, int n, long unitNanos) {
        if (n == 0) {
            return EMPTY;
        }
        long[] s = Arrays.copyOf(samples, n);
        Arrays.sort(s);
        double toMs = unitNanos / 1_000_000.0;
        double sum = 0;
        for (long v : s) {
            sum += v;
        }
        double mean = sum / n;
        double sq = 0;
        for (long v : s) {
            sq += (v - mean) * (v - mean);
        }
        double sd = n > 1 ? Math.sqrt(sq / (n - 1)) : 0;
        return new Stats(n, rank(s, 0.50) * toMs, rank(s, 0.95) * toMs, rank(s, 0.99) * toMs, mean * toMs, sd * toMs,
                s[0] * toMs, s[n - 1] * toMs);
    }

    static Stats ofNanos(long[] samples, int n) {
        return of(samples, n, 1);
    }

    /** The nearest-rank {@code q} quantile of the first {@code n} samples (in {@code unitNanos}), in ms; NaN for none. */
    static double quantile(long[] samples, int n, long unitNanos, double q) {
        if (n == 0) {
            return Double.NaN;
        }
        long[] s = Arrays.copyOf(samples, n);
        Arrays.sort(s);
        return rank(s, q) * (unitNanos / 1_000_000.0);
    }

    private static long rank(long[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", count);
        m.put("p50Ms", round(p50));
        m.put("p95Ms", round(p95));
        m.put("p99Ms", round(p99));
        m.put("meanMs", round(mean));
        m.put("stddevMs", round(stddev));
        m.put("minMs", round(min));
        m.put("maxMs", round(max));
        return m;
    }

    static Double round(double v) {
        return Double.isNaN(v) ? null : Math.round(v * 1000) / 1000.0;
    }

    /** A growable array of long samples (no boxing on the hot path). */
    static final class Samples {
        long[] values;
        int size;

        Samples(int initial) {
            values = new long[Math.max(16, initial)];
        }

        void add(long v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        void addAll(Samples other) {
            for (int i = 0; i < other.size; i++) {
                add(other.values[i]);
            }
        }
    }
}

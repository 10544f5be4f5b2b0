package io.diminuendo.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/** Collects the results of every benchmark and renders them as Markdown tables (seed-style) and JSON. */
final class Report {

    /** How a metric is printed and which way is better (for the speedup column). */
    enum Kind {
        /** milliseconds, lower is better */
        MS,
        /** per second, higher is better */
        RATE,
        /** bytes, lower is better */
        BYTES,
        /** a plain count; no speedup */
        COUNT,
        /** seconds of wall time, lower is better */
        SECONDS,
        /** microseconds (CPU cost per operation), lower is better */
        MICROS,
        /** a ratio such as CPU cores in use; no speedup */
        RATIO
    }

    record Metric(String label, double value, Kind kind) {
    }

    /** One benchmark: a titled table whose columns are the targets. */
    static final class Result {
        String key;
        String title;
        final String note;
        final Map<String, Map<String, Metric>> byTarget = new LinkedHashMap<>();
        final Map<String, Map<String, Object>> details = new LinkedHashMap<>();
        final Map<String, String> failures = new LinkedHashMap<>();

        Result(String key, String title, String note) {
            this.key = key;
            this.title = title;
            this.note = note;
        }

        Map<String, Metric> target(String label) {
            return byTarget.computeIfAbsent(label, k -> new LinkedHashMap<>());
        }

        Map<String, Object> detail(String label) {
            return details.computeIfAbsent(label, k -> new LinkedHashMap<>());
        }

        void add(String target, String id, String label, double value, Kind kind) {
            target(target).put(id, new Metric(label, value, kind));
        }

        void latency(String target, String prefix, Stats s, boolean full) {
            stat(target, prefix, "p50", s.p50());
            if (full) {
                stat(target, prefix, "p95", s.p95());
            }
            stat(target, prefix, "p99", s.p99());
            stat(target, prefix, "mean", s.mean());
            if (full) {
                stat(target, prefix, "stddev", s.stddev());
                stat(target, prefix, "min", s.min());
            }
            stat(target, prefix, "max", s.max());
        }

        /** Id {@code p50} or {@code frameP50} (JSON key {@code frameP50Ms}), label {@code frame p50}. */
        private void stat(String target, String prefix, String stat, double value) {
            String p = prefix.strip();
            String id = p.isEmpty() ? stat : p + Character.toUpperCase(stat.charAt(0)) + stat.substring(1);
            add(target, id, prefix + stat, value, Kind.MS);
        }

        Double value(String target, String id) {
            Map<String, Metric> m = byTarget.get(target);
            Metric metric = m == null ? null : m.get(id);
            return metric == null ? null : metric.value();
        }
    }

    private final List<Result> results = new ArrayList<>();
    private final Map<String, Object> meta = new LinkedHashMap<>();
    private final List<String> targets = new ArrayList<>();
    private final List<String[]> summary = new ArrayList<>();

    Report(List<String> targets) {
        this.targets.addAll(targets);
    }

    Map<String, Object> meta() {
        return meta;
    }

    private int pass = 1;

    /** Results added from now on belong to pass {@code pass}: from the second on, their key and title say so. */
    void pass(int pass) {
        this.pass = pass;
    }

    /** The suffix of the keys of pass {@code pass}'s results ("" for the first). */
    static String passSuffix(int pass) {
        return pass <= 1 ? "" : "#" + pass;
    }

    void add(Result r) {
        if (pass > 1) {
            r.key += passSuffix(pass);
            r.title += " (pass " + pass + ")";
        }
        results.add(r);
    }

    List<Result> results() {
        return results;
    }

    /** A row of the summary table: metric, value per target (already formatted), target text. */
    void summary(String metric, String target, String... values) {
        String[] row = new String[values.length + 2];
        row[0] = metric;
        System.arraycopy(values, 0, row, 1, values.length);
        row[row.length - 1] = target;
        summary.add(row);
    }

    String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("## Diminuendo load client results\n\n");
        for (Map.Entry<String, Object> e : meta.entrySet()) {
            if (!(e.getValue() instanceof Map)) {
                b.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
            }
        }
        b.append('\n');
        for (Result r : results) {
            b.append("### ").append(r.title).append("\n\n");
            if (r.note != null && !r.note.isEmpty()) {
                b.append(r.note).append("\n\n");
            }
            for (Map.Entry<String, String> f : r.failures.entrySet()) {
                b.append("**").append(f.getKey()).append(" failed:** ").append(f.getValue()).append("\n\n");
            }
            List<String> cols = new ArrayList<>();
            for (String t : targets) {
                if (r.byTarget.containsKey(t)) {
                    cols.add(t);
                }
            }
            for (String t : r.byTarget.keySet()) {
                if (!cols.contains(t)) {
                    cols.add(t);
                }
            }
            if (cols.isEmpty()) {
                continue;
            }
            boolean speedup = cols.size() == 2;
            b.append("| |");
            for (String c : cols) {
                b.append(' ').append(c).append(" |");
            }
            if (speedup) {
                b.append(" Speedup |");
            }
            b.append("\n|---|");
            b.append("---|".repeat(cols.size() + (speedup ? 1 : 0)));
            b.append('\n');
            Map<String, Metric> first = r.byTarget.get(cols.get(0));
            List<String> ids = new ArrayList<>(first.keySet());
            for (String c : cols) {
                for (String id : r.byTarget.get(c).keySet()) {
                    if (!ids.contains(id)) {
                        ids.add(id);
                    }
                }
            }
            for (String id : ids) {
                Metric any = null;
                for (String c : cols) {
                    Metric m = r.byTarget.get(c).get(id);
                    if (m != null) {
                        any = m;
                        break;
                    }
                }
                b.append("| ").append(any.label()).append(" |");
                for (String c : cols) {
                    Metric m = r.byTarget.get(c).get(id);
                    b.append(' ').append(m == null ? "—" : format(m.value(), m.kind())).append(" |");
                }
                if (speedup) {
                    Metric a = r.byTarget.get(cols.get(0)).get(id);
                    Metric o = r.byTarget.get(cols.get(1)).get(id);
                    b.append(' ').append(a == null || o == null ? "" : speedup(a, o)).append(" |");
                }
                b.append('\n');
            }
            b.append('\n');
        }
        if (!summary.isEmpty()) {
            b.append("### Summary\n\n| Metric |");
            for (String t : targets) {
                b.append(' ').append(t).append(" |");
            }
            b.append(" Target (issue 13) |\n|---|");
            b.append("---|".repeat(targets.size() + 1));
            b.append('\n');
            for (String[] row : summary) {
                b.append('|');
                for (String cell : row) {
                    b.append(' ').append(cell).append(" |");
                }
                b.append('\n');
            }
            b.append('\n');
        }
        return b.toString();
    }

    /** "12.3x faster" style: how many times better the first column is than the second. */
    static String speedup(Metric base, Metric other) {
        double a = base.value();
        double o = other.value();
        if (Double.isNaN(a) || Double.isNaN(o) || a <= 0 || o <= 0) {
            return "";
        }
        if (base.label().contains("stddev")) {
            return ratio(o / a, "tighter", "looser");
        }
        return switch (base.kind()) {
            case MS, SECONDS -> ratio(o / a, "faster", "slower");
            case MICROS -> ratio(o / a, "cheaper", "costlier");
            case RATIO -> "";
            case BYTES -> ratio(o / a, "smaller", "larger");
            case RATE -> ratio(a / o, "throughput", "throughput");
            case COUNT -> "";
        };
    }

    private static String ratio(double r, String better, String worse) {
        if (r >= 1) {
            return String.format(Locale.ROOT, "%.1fx %s", r, better);
        }
        return String.format(Locale.ROOT, "%.1fx %s", 1 / r, worse.equals(better) ? "less " + worse : worse);
    }

    static String format(double v, Kind kind) {
        if (Double.isNaN(v)) {
            return "—";
        }
        return switch (kind) {
            case MS -> String.format(Locale.ROOT, "%.3f ms", v);
            case RATE -> String.format(Locale.ROOT, "%,.0f/s", v);
            case BYTES -> bytes(v);
            case COUNT -> String.format(Locale.ROOT, "%,.0f", v);
            case SECONDS -> String.format(Locale.ROOT, "%.3f s", v);
            case MICROS -> String.format(Locale.ROOT, "%.2f µs", v);
            case RATIO -> String.format(Locale.ROOT, "%.2f", v);
        };
    }

    static String bytes(double v) {
        double a = Math.abs(v);
        if (a >= 1024 * 1024 * 1024.0) {
            return String.format(Locale.ROOT, "%.2f GiB", v / (1024 * 1024 * 1024.0));
        }
        if (a >= 1024 * 1024.0) {
            return String.format(Locale.ROOT, "%.1f MiB", v / (1024 * 1024.0));
        }
        if (a >= 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", v / 1024.0);
        }
        return String.format(Locale.ROOT, "%.0f B", v);
    }

    Map<String, Object> toJson() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("meta", meta);
        Map<String, Object> rs = new LinkedHashMap<>();
        for (Result r : results) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("title", r.title);
            if (r.note != null) {
                o.put("note", r.note);
            }
            Map<String, Object> perTarget = new LinkedHashMap<>();
            for (Map.Entry<String, Map<String, Metric>> t : r.byTarget.entrySet()) {
                Map<String, Object> m = new LinkedHashMap<>();
                for (Map.Entry<String, Metric> e : t.getValue().entrySet()) {
                    double v = e.getValue().value();
                    m.put(e.getKey() + suffix(e.getValue().kind()), Double.isNaN(v) ? null
                            : e.getValue().kind() == Kind.MS ? Stats.round(v) : Math.round(v * 1000) / 1000.0);
                }
                Map<String, Object> d = r.details.get(t.getKey());
                if (d != null && !d.isEmpty()) {
                    m.put("details", d);
                }
                perTarget.put(t.getKey(), m);
            }
            o.put("targets", perTarget);
            if (!r.failures.isEmpty()) {
                o.put("failures", r.failures);
            }
            rs.put(r.key, o);
        }
        root.put("results", rs);
        return root;
    }

    private static String suffix(Kind k) {
        return switch (k) {
            case MS -> "Ms";
            case RATE -> "PerSec";
            case BYTES -> "Bytes";
            case COUNT -> "";
            case SECONDS -> "Sec";
            case MICROS -> "Micros";
            case RATIO -> "";
        };
    }

    void writeJson(Path file) throws IOException {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        mapper.writeValue(file.toFile(), toJson());
    }
}

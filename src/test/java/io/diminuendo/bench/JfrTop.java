package io.diminuendo.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Summarises the CPU samples ({@code jdk.ExecutionSample}) of a JFR recording: samples per thread, the hottest
 * frames (self), the first {@code io.diminuendo} frame of each sample (which part of the gateway the time is
 * spent under), and inclusive counts. {@code scripts/load.sh jfr-top /tmp/gw.jfr [rows]}.
 */
final class JfrTop {

    private JfrTop() {
    }

    static void run(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: jfr-top <recording.jfr> [rows]");
            return;
        }
        int rows = args.length > 1 ? Integer.parseInt(args[1]) : 25;
        Map<String, Integer> threads = new HashMap<>();
        Map<String, Integer> self = new HashMap<>();
        Map<String, Integer> ours = new HashMap<>();
        Map<String, Integer> inclusive = new HashMap<>();
        int samples = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(Path.of(args[0]))) {
            if (!e.getEventType().getName().equals("jdk.ExecutionSample")) {
                continue;
            }
            RecordedStackTrace st = e.getStackTrace();
            if (st == null) {
                continue;
            }
            samples++;
            RecordedThread t = e.getThread("sampledThread");
            String name = t == null || t.getJavaName() == null ? "?" : t.getJavaName().replaceAll("\\d+$", "N");
            threads.merge(name, 1, Integer::sum);
            List<RecordedFrame> frames = st.getFrames();
            String first = null;
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < frames.size(); i++) {
                RecordedFrame f = frames.get(i);
                if (!f.isJavaFrame()) {
                    continue;
                }
                String m = f.getMethod().getType().getName() + "." + f.getMethod().getName();
                if (i == 0) {
                    self.merge(m, 1, Integer::sum);
                }
                if (first == null && m.startsWith("io.diminuendo.")) {
                    first = m;
                }
                if (seen.add(m)) {
                    inclusive.merge(m, 1, Integer::sum);
                }
            }
            ours.merge(first == null ? "(no io.diminuendo frame)" : first, 1, Integer::sum);
        }
        System.out.printf(Locale.ROOT, "%s: %d CPU samples (jdk.ExecutionSample)%n", args[0], samples);
        print("samples by thread", threads, samples, rows);
        print("hottest frames (self)", self, samples, rows);
        print("first io.diminuendo frame on the stack", ours, samples, rows);
        print("inclusive (method anywhere on the stack)", inclusive, samples, rows + 15);
    }

    private static void print(String title, Map<String, Integer> counts, int total, int rows) {
        System.out.printf(Locale.ROOT, "%n## %s%n", title);
        Map<String, Integer> sorted = new LinkedHashMap<>();
        counts.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(rows)
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        sorted.forEach((k, v) -> System.out.printf(Locale.ROOT, "%7d %5.1f%%  %s%n", v, 100.0 * v / Math.max(1, total), k));
    }
}

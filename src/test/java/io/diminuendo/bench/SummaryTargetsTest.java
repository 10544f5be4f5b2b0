package io.diminuendo.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.diminuendo.bench.Report.Kind;
import io.diminuendo.bench.Report.Result;

/** The summary judges each figure against the performance issue's targets, the first seconds by their own. */
class SummaryTargetsTest {

    private static final String T = "gw";

    private static String summary(int pass, String... args) {
        Report report = new Report(List.of(T));
        for (int p = 1; p <= 2; p++) {
            report.pass(p);
            Result connect = new Result("connect", "connect", "");
            connect.add(T, "frameP50", "frame p50", 0.8, Kind.MS);
            connect.add(T, "frameAuthP50", "frame: authenticate round trip p50", 0.25, Kind.MS);
            report.add(connect);
            Result session = new Result("session", "session", "");
            session.add(T, "p50", "p50", 0.25, Kind.MS);
            session.add(T, "p95", "p95", 0.4, Kind.MS);
            report.add(session);
        }
        LoadClient.summarize(report, List.of(Target.of(T, "http://localhost:1", "k", null)), null,
                LoadConfig.parse(args, Map.of()), pass, 2);
        return report.markdown();
    }

    @Test
    void aLaunchedGatewaysFirstPassIsHeldToTheFirstSecondsTargets() {
        String md = summary(1, "--launch", "true", "--env-file", "/nonexistent.env");
        assertThat(md).contains("| Connect+auth p50 (frame) | 0.800 ms | ≤ 1.0 ms in the first pass — met |")
                .contains("| Session create p50 | 0.250 ms | ≤ 0.3 ms in the first pass — met |")
                .contains("… authenticate round trip p50 | 0.250 ms | ≤ 0.2 ms — missed");
    }

    @Test
    void everyOtherPassIsHeldToTheWarmTargets() {
        String md = summary(2, "--launch", "true", "--env-file", "/nonexistent.env");
        assertThat(md).contains("| Connect+auth p50 (frame) | 0.800 ms | ≤ 0.6 ms — missed")
                .contains("| Session create p50 | 0.250 ms | ≤ 0.18 ms — missed")
                .contains("| Session create p95 | 0.400 ms | ≤ 0.5 ms — met |");
        assertThat(summary(1, "--env-file", "/nonexistent.env")).as("no --launch: nothing is a first second")
                .contains("| Connect+auth p50 (frame) | 0.800 ms | ≤ 0.6 ms — missed");
    }
}

package io.diminuendo.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.diminuendo.health.MetricsCatalogue;

/**
 * The example Prometheus rules in {@code deploy/alerts/} are well formed and only use the gateway's own metrics
 * from the catalogue in docs/operations.md (which HealthTest checks against {@code /q/metrics}).
 */
class AlertRulesTest {
    private static final Pattern GATEWAY_METRIC = Pattern.compile("\\bdiminuendo_[a-z_]+");
    private static final Pattern DURATION = Pattern.compile("[0-9]+[smh]");

    private static List<JsonNode> rules;

    @BeforeAll
    static void load() throws IOException {
        JsonNode file = new ObjectMapper(new YAMLFactory())
                .readTree(Path.of("deploy", "alerts", "diminuendo-rules.yaml").toFile());
        rules = new ArrayList<>();
        file.path("groups").forEach(group -> {
            assertThat(group.path("name").asText()).isNotBlank();
            group.path("rules").forEach(rules::add);
        });
    }

    @Test
    void everyRuleHasANameAnExpressionADurationASeverityAndASummary() {
        assertThat(rules).isNotEmpty().allSatisfy(rule -> {
            assertThat(rule.path("alert").asText()).matches("Diminuendo[A-Za-z]+");
            assertThat(rule.path("expr").asText()).isNotBlank();
            assertThat(rule.path("for").asText()).matches(DURATION);
            assertThat(rule.path("labels").path("severity").asText()).isIn("warning", "critical");
            assertThat(rule.path("annotations").path("summary").asText()).isNotBlank();
        });
    }

    @Test
    void rulesUseOnlyCataloguedGatewayMetrics() throws IOException {
        Set<String> catalogue = MetricsCatalogue.names();
        Set<String> used = new TreeSet<>();
        for (JsonNode rule : rules) {
            Matcher m = GATEWAY_METRIC.matcher(rule.path("expr").asText());
            while (m.find()) {
                used.add(m.group());
            }
        }
        assertThat(catalogue).containsAll(used);
        assertThat(used).contains("diminuendo_writer_queue_depth", "diminuendo_writer_queue_capacity",
                "diminuendo_connections_slow_consumer_closes_total", "diminuendo_backend_up");
    }
}

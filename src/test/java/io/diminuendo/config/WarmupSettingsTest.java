package io.diminuendo.config;

import static io.diminuendo.config.TestConfigs.config;
import static io.diminuendo.config.TestConfigs.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The {@code diminuendo.warmup.*} settings: on by default, and start-up refusing bad values, naming the property. */
class WarmupSettingsTest {
    @Test
    void theWarmupIsOnByDefaultWith300RoundsWithinTenSeconds() {
        GatewayConfig.Warmup warmup = config(Map.of()).warmup();
        assertThat(warmup.enabled()).isTrue();
        assertThat(warmup.rounds()).isEqualTo(300);
        assertThat(warmup.maxDuration()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void badValuesAreRefusedNamingThePropertyUnlessTheWarmupIsOff() {
        assertThat(problems(Map.of("diminuendo.warmup.rounds", "0")))
                .containsExactly("diminuendo.warmup.rounds must be at least 1 (was 0)");
        assertThat(problems(Map.of("diminuendo.warmup.max-duration", "0s")))
                .containsExactly("diminuendo.warmup.max-duration must be at least 1 (was 0)");
        assertThat(problems(Map.of("diminuendo.warmup.enabled", "false", "diminuendo.warmup.rounds", "0"))).isEmpty();
    }
}

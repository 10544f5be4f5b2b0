package io.diminuendo.config;

import static io.diminuendo.config.TestConfigs.config;
import static io.diminuendo.config.TestConfigs.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** {@code diminuendo.limits.header-timeout}: ten seconds unless set, and start-up refuses a value that is not positive. */
class HeaderTimeoutSettingsUnitTest {
    @Test
    void defaultsToTenSeconds() {
        assertThat(config(Map.of()).limits().headerTimeout()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void aTimeoutThatIsNotPositiveIsRefusedNamingTheProperty() {
        assertThat(problems(Map.of("diminuendo.limits.header-timeout", "0s")))
                .containsExactly("diminuendo.limits.header-timeout must be positive (was PT0S)");
    }
}

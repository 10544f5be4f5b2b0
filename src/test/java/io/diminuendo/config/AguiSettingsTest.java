package io.diminuendo.config;

import static io.diminuendo.config.TestConfigs.config;
import static io.diminuendo.config.TestConfigs.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The {@code diminuendo.agui.*} settings: their defaults, and start-up refusing bad values, naming the property. */
class AguiSettingsTest {
    @Test
    void theDefaultsCancelOnDisconnectAllowEightMebibytesAndKeepAliveEveryFifteenSeconds() {
        GatewayConfig.Agui agui = config(Map.of()).agui();
        assertThat(agui.cancelOnDisconnect()).isTrue();
        assertThat(agui.maxBodyBytes()).isEqualTo(8 * 1024 * 1024);
        assertThat(agui.keepAliveInterval()).isEqualTo(Duration.ofSeconds(15));
        assertThat(agui.cancelWait()).isEqualTo(Duration.ofSeconds(5));
        assertThat(problems(Map.of())).isEmpty();
    }

    @Test
    void badValuesAreRefusedNamingTheProperty() {
        assertThat(problems(Map.of("diminuendo.agui.max-body-bytes", "100")))
                .containsExactly("diminuendo.agui.max-body-bytes must be at least 4096 (was 100)");
        assertThat(problems(Map.of("diminuendo.agui.max-body-bytes", "2000000000")))
                .containsExactly("diminuendo.agui.max-body-bytes must be at most 268435456 (was 2000000000)");
        assertThat(problems(Map.of("diminuendo.agui.keep-alive-interval", "10ms")))
                .containsExactly("diminuendo.agui.keep-alive-interval must be at least 100ms (was PT0.01S)");
        assertThat(problems(Map.of("diminuendo.agui.cancel-wait", "-1s")))
                .containsExactly("diminuendo.agui.cancel-wait must not be negative (was PT-1S)");
    }
}

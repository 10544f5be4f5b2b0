package io.diminuendo.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;

/** The {@code diminuendo.agui.*} settings: their defaults, and start-up refusing bad values, naming the property. */
class AguiSettingsTest {

    private static GatewayConfig config(Map<String, String> properties) {
        return new SmallRyeConfigBuilder().withMapping(GatewayConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(properties, "test", 300)).build()
                .getConfigMapping(GatewayConfig.class);
    }

    private static List<String> problems(Map<String, String> properties) {
        return new ConfigValidator(config(properties), 4_194_304).problems(false);
    }

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

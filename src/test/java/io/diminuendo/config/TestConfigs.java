package io.diminuendo.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;

/** {@link GatewayConfig} built from a few properties, without starting the application, and what start-up says of it. */
public final class TestConfigs {
    private TestConfigs() {
    }

    public static GatewayConfig config(Map<String, String> properties) {
        return new SmallRyeConfigBuilder().withMapping(GatewayConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(properties, "test", 300)).build()
                .getConfigMapping(GatewayConfig.class);
    }

    /** The problems {@link ConfigValidator} finds (outside the prod profile, with the 4 MiB WebSocket message cap). */
    static List<String> problems(Map<String, String> properties) {
        return new ConfigValidator(config(properties), 4_194_304).problems(false);
    }
}

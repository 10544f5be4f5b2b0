package io.diminuendo.config;

import static io.diminuendo.config.TestConfigs.config;
import static io.diminuendo.config.TestConfigs.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

/** {@code diminuendo.store.writer.low-space-bytes}: 64 MiB by default, 0 turns it off, a negative value is refused. */
class LowSpaceSettingsTest {
    @Test
    void theWriterWatchesForLessThanSixtyFourMebibytesFreeByDefault() {
        assertThat(config(Map.of()).store().writer().lowSpaceBytes()).isEqualTo(64L << 20);
        assertThat(problems(Map.of("diminuendo.store.writer.low-space-bytes", "0"))).isEmpty();
    }

    @Test
    void aNegativeValueIsRefusedNamingTheProperty() {
        assertThat(problems(Map.of("diminuendo.store.writer.low-space-bytes", "-1"))).containsExactly(
                "diminuendo.store.writer.low-space-bytes must not be negative (0 turns the low-space mode off)");
    }
}

package io.diminuendo.config;

import static io.diminuendo.config.TestConfigs.config;
import static io.diminuendo.config.TestConfigs.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

/** {@code diminuendo.store.writer.page-cache-bytes}: 16 MiB by default, at least 64 KiB. */
class WriterPageCacheSettingsTest {
    @Test
    void theWriterCachesSixteenMebibytesOfPagesByDefault() {
        assertThat(config(Map.of()).store().writer().pageCacheBytes()).isEqualTo(16L << 20);
        assertThat(problems(Map.of("diminuendo.store.writer.page-cache-bytes", "65536"))).isEmpty();
    }

    @Test
    void lessThanSixtyFourKibibytesIsRefusedNamingTheProperty() {
        assertThat(problems(Map.of("diminuendo.store.writer.page-cache-bytes", "1024"))).containsExactly(
                "diminuendo.store.writer.page-cache-bytes must be at least 65536 (was 1024)");
    }
}

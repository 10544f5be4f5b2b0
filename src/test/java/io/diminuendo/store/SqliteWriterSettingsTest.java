package io.diminuendo.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The SQLite writer's connection caches {@code page-cache-bytes} of pages (16 MiB in these settings) instead of
 * SQLite's 2 MB; a read connection keeps the default. Unset, the SQLite writer lingers 20 ms.
 */
class SqliteWriterSettingsTest {
    @TempDir
    Path dir;

    private static long cacheSizePragma(Connection c) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA cache_size")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void theWriteConnectionHasThePageCacheOfItsSetting() throws Exception {
        StoreSettings settings = StoreSettings.sqlite(dir.resolve("store.db").toString(),
                GatewayConfig.Synchronous.NORMAL, 1024, 0); // no checkpointer: the writer's is the pool's only connection
        try (SqliteStoreUnderTest opened = SqliteStoreUnderTest.start(settings, new GatewayMetrics(new SimpleMeterRegistry()))) {
            try (Connection read = opened.store.readConnection()) {
                assertThat(cacheSizePragma(read)).as("a read connection: SQLite's default, 2,000 KiB").isEqualTo(-2000);
            }
            assertThat(opened.store.writer().linger()).as("SQLite's default linger").isEqualTo(Duration.ofMillis(20));
            opened.store.drainAndStop();
            try (Connection written = opened.writerPoolConnection()) {
                assertThat(cacheSizePragma(written)).as("negative: KiB").isEqualTo(-(16L << 20) / 1024);
            }
        }
    }
}

package io.diminuendo.warmup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import io.diminuendo.support.GatewayProcess;
import io.diminuendo.support.WsClient;

/**
 * {@code scripts/aot-cache.sh} trains a JDK AOT cache on the packaged gateway, and a gateway started with it
 * ({@code -XX:AOTMode=on}: the JVM refuses to start if it cannot use the cache) loads its classes from it and
 * serves. Needs a JDK 25 or newer: {@code -Ddiminuendo.it.aot-java=/path/to/bin/java}, else the first one found
 * under {@code /usr/lib/jvm}; skipped when there is none.
 */
class AotCacheIT {

    @Test
    void theTrainedCacheIsUsedAndTheGatewayServesFromIt() throws Exception {
        Optional<String> java = aotJava();
        assumeTrue(java.isPresent(), "no JDK 25+ found (set -Ddiminuendo.it.aot-java)");
        Path cache = Path.of("target", "it-aot", "diminuendo.aot").toAbsolutePath();
        Files.createDirectories(cache.getParent());
        Path app = Path.of("target", "quarkus-app").toAbsolutePath();

        ProcessBuilder script = new ProcessBuilder("bash", "scripts/aot-cache.sh", app.toString(), cache.toString())
                .redirectErrorStream(true).redirectOutput(cache.resolveSibling("training.log").toFile());
        script.environment().put("JAVA", java.get());
        Process training = script.start();
        assertThat(training.waitFor(240, TimeUnit.SECONDS)).as("training finished").isTrue();
        assertThat(training.exitValue()).as(Files.readString(cache.resolveSibling("training.log"))).isZero();
        assertThat(Files.size(cache)).isGreaterThan(1 << 20);

        Path classLog = cache.resolveSibling("classes.log");
        Files.deleteIfExists(classLog);
        List<String> options = new ArrayList<>(List.of("-XX:AOTMode=on", "-XX:AOTCache=" + cache,
                "-Xlog:class+load:file=" + classLog));
        options.addAll(GatewayProcess.properties(GatewayProcess.freshDb()));
        GatewayProcess gw = GatewayProcess.launchWith(java.get(), "aot-cache", options);
        try {
            gw.awaitHealthy(Duration.ofSeconds(60));
            try (WsClient c = WsClient.authenticated(gw.ws(), GatewayProcess.API_KEY)) {
                String id = c.createSession("from the cache");
                c.request("subscribe", "sessionId", id);
                c.request("send_message", "sessionId", id, "text", "/sim tokens=5");
                assertThat(c.eventsUntilTurnEnds(id)).isNotEmpty();
            }
            List<String> loaded = Files.readAllLines(classLog, StandardCharsets.UTF_8);
            long fromCache = loaded.stream().filter(l -> l.contains("shared objects file")).count();
            assertThat(fromCache).as("classes loaded from the AOT cache, of %d", loaded.size())
                    .isGreaterThan(loaded.size() / 2);
        } finally {
            assertThat(gw.stop()).isTrue();
        }
    }

    /** A {@code java} that can write an AOT cache (JDK 25+). */
    private static Optional<String> aotJava() throws IOException, InterruptedException {
        String configured = System.getProperty("diminuendo.it.aot-java", "");
        if (!configured.isEmpty()) {
            return Optional.of(configured);
        }
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return Optional.empty();
        }
        List<Path> candidates;
        try (Stream<Path> s = Files.list(jvms)) {
            candidates = s.map(d -> d.resolve("bin/java")).filter(Files::isExecutable).sorted().toList();
        }
        for (Path candidate : candidates) {
            Process p = new ProcessBuilder(candidate.toString(), "-XX:+PrintFlagsFinal", "-version")
                    .redirectErrorStream(true).start();
            String flags = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor(30, TimeUnit.SECONDS) && flags.contains(" AOTCacheOutput ")) {
                return Optional.of(candidate.toString());
            }
        }
        return Optional.empty();
    }
}

package io.diminuendo.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * The JVM image cannot be built here (no container engine), so what can go wrong in it without a build is checked
 * on its text: every file it copies passes {@code .dockerignore}, and the AOT cache it trains is the one its
 * entry point starts with, named outside {@code JAVA_OPTS} (which the manifests in {@code deploy/} override).
 */
class DockerfileTest {
    private static final Path DOCKERFILE = Path.of("src/main/docker/Dockerfile.jvm");

    @Test
    void everyCopiedFileIsLetThroughByDockerignore() throws IOException {
        List<String> sources = new ArrayList<>();
        Matcher copy = Pattern.compile("(?m)^COPY\\s+(\\S+)\\s+\\S+$").matcher(Files.readString(DOCKERFILE));
        while (copy.find()) {
            sources.add(copy.group(1).replaceAll("/$", ""));
        }
        assertThat(sources).contains("scripts/aot-cache.sh");
        List<String> ignore = Files.readAllLines(Path.of(".dockerignore")).stream()
                .map(String::trim).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        for (String source : sources) {
            assertThat(admitted(ignore, source)).as("%s passes .dockerignore", source).isTrue();
        }
    }

    /** Docker's rule: the last pattern that matches a path (or one of its parent directories) decides. */
    private static boolean admitted(List<String> ignore, String source) {
        boolean admitted = true;
        for (String line : ignore) {
            boolean negated = line.startsWith("!");
            PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + (negated ? line.substring(1) : line));
            for (Path p = Path.of(source); p != null; p = p.getParent()) {
                if (m.matches(p)) {
                    admitted = negated;
                    break;
                }
            }
        }
        return admitted;
    }

    @Test
    void theEntryPointStartsWithTheCacheTheBuildTrains() throws IOException {
        String text = Files.readString(DOCKERFILE);
        Matcher trained = Pattern.compile("bash\\s+\\S*aot-cache\\.sh[ \\t]+(\\S+)[ \\t]+(\\S+)").matcher(text);
        assertThat(trained.find()).as("the build runs scripts/aot-cache.sh").isTrue();
        String cache = trained.group(2);
        Matcher entry = Pattern.compile("(?m)^ENTRYPOINT (.*)$").matcher(text);
        assertThat(entry.find()).isTrue();
        String command = entry.group(1);
        assertThat(command).contains("-XX:AOTCache=" + cache).contains("-jar " + trained.group(1) + "/quarkus-run.jar");
        assertThat(command.indexOf("-XX:AOTCache")).as("named before $JAVA_OPTS, not in it")
                .isLessThan(command.indexOf("$JAVA_OPTS"));
        assertThat(text).contains("FROM eclipse-temurin:25-jre");
    }
}

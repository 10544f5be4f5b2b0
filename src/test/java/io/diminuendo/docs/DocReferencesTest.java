package io.diminuendo.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The code cites the project's documents by file and heading: {@code (docs/protocol.md, "Errors")}, or several
 * headings of one file joined by {@code and}. Every cited file and heading exists; nothing cites the external wire
 * contract the protocol document was written from; and the links between the documents resolve, anchors included.
 */
class DocReferencesTest {
    private static final List<Path> SOURCES = List.of(Path.of("src", "main", "java"), Path.of("src", "test", "java"));
    /** A citation: the file, then one or more quoted headings. */
    private static final Pattern CITATION = Pattern.compile(
            "docs/([A-Za-z0-9_-]+)\\.md, (\"[^\"\\n]+\"(?:(?:, | and | or )\"[^\"\\n]+\")*)");
    private static final Pattern QUOTED = Pattern.compile("\"([^\"\\n]+)\"");
    /** The external contract, by file name or by its section sign. */
    private static final Pattern EXTERNAL = Pattern.compile("PROTOCOL\\.md|PROTOCOL\\s§");
    private static final Pattern LINK = Pattern.compile("\\[[^\\]\\n]*\\]\\(([^)\\s]+)\\)");
    private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.+?)\\s*#*\\s*$");

    @Test
    void everyCitedDocumentHasTheCitedHeading() throws IOException {
        List<String> broken = new ArrayList<>();
        int citations = 0;
        for (Path file : javaSources()) {
            List<String> lines = Files.readAllLines(file);
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = CITATION.matcher(lines.get(i));
                while (m.find()) {
                    Path doc = Path.of("docs", m.group(1) + ".md");
                    Matcher q = QUOTED.matcher(m.group(2));
                    while (q.find()) {
                        citations++;
                        if (!Files.isRegularFile(doc)) {
                            broken.add(file + ":" + (i + 1) + ": " + doc + " does not exist");
                        } else if (!headings(doc).contains(q.group(1))) {
                            broken.add(file + ":" + (i + 1) + ": " + doc + " has no heading \"" + q.group(1) + "\"");
                        }
                    }
                }
            }
        }
        assertThat(citations).as("citations found in %s", SOURCES).isPositive();
        assertThat(broken).isEmpty();
    }

    @Test
    void nothingCitesTheExternalWireContract() throws IOException {
        List<Path> files = new ArrayList<>(javaSources());
        files.addAll(markdown());
        List<String> found = new ArrayList<>();
        for (Path file : files) {
            List<String> lines = Files.readAllLines(file);
            for (int i = 0; i < lines.size(); i++) {
                if (EXTERNAL.matcher(lines.get(i)).find()) {
                    found.add(file + ":" + (i + 1) + ": " + lines.get(i).strip());
                }
            }
        }
        assertThat(found).as("cite docs/protocol.md and its headings instead").isEmpty();
    }

    @Test
    void everyLinkToADocumentResolves() throws IOException {
        List<String> broken = new ArrayList<>();
        int links = 0;
        for (Path file : markdown()) {
            List<String> lines = Files.readAllLines(file);
            boolean fenced = false;
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).strip().startsWith("```")) {
                    fenced = !fenced;
                    continue;
                }
                Matcher m = LINK.matcher(lines.get(i));
                while (!fenced && m.find()) {
                    String target = m.group(1);
                    int hash = target.indexOf('#');
                    String path = hash < 0 ? target : target.substring(0, hash);
                    if (target.contains(":") || !(path.endsWith(".md") || path.isEmpty())) {
                        continue; // another scheme, or a file that is not a document
                    }
                    links++;
                    Path doc = path.isEmpty() ? file : file.resolveSibling(path).normalize();
                    String where = file + ":" + (i + 1) + ": " + target;
                    if (!Files.isRegularFile(doc)) {
                        broken.add(where + ": " + doc + " does not exist");
                    } else if (hash >= 0 && !anchors(doc).contains(target.substring(hash + 1))) {
                        broken.add(where + ": " + doc + " has no heading with that anchor");
                    }
                }
            }
        }
        assertThat(links).as("links found in README.md and docs/").isPositive();
        assertThat(broken).isEmpty();
    }

    @Test
    void anchorsAreTheSlugsGitHubGivesHeadings() {
        assertThat(slug("1. Client protocol (`/ws`)")).isEqualTo("1-client-protocol-ws");
        assertThat(slug("`websocket` backends")).isEqualTo("websocket-backends");
        assertThat(slug("Metrics (`GET /q/metrics`, Prometheus text)")).isEqualTo("metrics-get-qmetrics-prometheus-text");
        assertThat(slug("Start-up, stop and crash recovery")).isEqualTo("start-up-stop-and-crash-recovery");
    }

    private static List<Path> javaSources() throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path root : SOURCES) {
            try (Stream<Path> walk = Files.walk(root)) {
                walk.filter(p -> p.toString().endsWith(".java")).sorted().forEach(files::add);
            }
        }
        return files;
    }

    private static List<Path> markdown() throws IOException {
        List<Path> files = new ArrayList<>();
        files.add(Path.of("README.md"));
        try (Stream<Path> docs = Files.list(Path.of("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
        }
        return files;
    }

    /** The text of each heading of a Markdown file as written (inline code keeps its backticks), outside code fences. */
    static List<String> headings(Path doc) {
        List<String> headings = new ArrayList<>();
        boolean fenced = false;
        try {
            for (String line : Files.readAllLines(doc)) {
                if (line.strip().startsWith("```")) {
                    fenced = !fenced;
                    continue;
                }
                Matcher m = HEADING.matcher(line);
                if (!fenced && m.matches()) {
                    headings.add(m.group(1));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return headings;
    }

    /** The anchors GitHub gives the headings of a file: slugs, the second of a kind suffixed {@code -1}, and so on. */
    static Set<String> anchors(Path doc) {
        Set<String> anchors = new LinkedHashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        for (String heading : headings(doc)) {
            String slug = slug(heading);
            int n = seen.merge(slug, 1, Integer::sum);
            anchors.add(n == 1 ? slug : slug + "-" + (n - 1));
        }
        return anchors;
    }

    /** GitHub's heading slug: lower case, punctuation dropped (letters, digits, {@code -} and {@code _} kept), spaces to hyphens. */
    static String slug(String heading) {
        return heading.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}\\s_-]", "").replace(' ', '-');
    }
}

package io.diminuendo.health;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The gateway's metric names as the catalogue in docs/operations.md lists them. */
public final class MetricsCatalogue {
    private static final Pattern ROW = Pattern.compile("(?m)^\\| `(diminuendo_[a-z_]+)` \\|");

    private MetricsCatalogue() {
    }

    public static Set<String> names() throws IOException {
        Matcher m = ROW.matcher(Files.readString(Path.of("docs", "operations.md")));
        Set<String> names = new TreeSet<>();
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }
}

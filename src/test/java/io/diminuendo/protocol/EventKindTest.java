package io.diminuendo.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/** The event vocabulary: one wire name per kind, the documented table, and which kinds end a turn. */
class EventKindTest {

    @Test
    void everyWireNameMapsBackToItsKind() {
        for (EventKind kind : EventKind.values()) {
            assertThat(EventKind.fromWire(kind.wire())).isSameAs(kind);
        }
        assertThat(EventKind.fromWire("no_such_kind")).isNull();
        assertThat(EventKind.fromWire(null)).isNull();
    }

    @Test
    void onlyCompletedFailedAndCancelledEndATurn() {
        assertThat(Arrays.stream(EventKind.values()).filter(EventKind::isTerminal))
                .containsExactlyInAnyOrder(EventKind.TURN_COMPLETED, EventKind.TURN_FAILED, EventKind.TURN_CANCELLED);
    }

    @Test
    void theProtocolDocumentListsExactlyTheseKinds() throws IOException {
        String doc = Files.readString(Path.of("docs/protocol.md"));
        int table = doc.indexOf("| kind | data |");
        assertThat(table).as("docs/protocol.md has the table of event kinds").isPositive();
        Set<String> documented = new LinkedHashSet<>();
        for (String line : doc.substring(table).split("\n")) {
            if (!line.startsWith("|")) {
                break;
            }
            String first = line.split("\\|")[1];
            Matcher m = Pattern.compile("`([a-z_]+)`").matcher(first);
            while (m.find()) {
                documented.add(m.group(1));
            }
        }
        assertThat(documented).containsExactlyInAnyOrderElementsOf(
                Arrays.stream(EventKind.values()).map(EventKind::wire).toList());
    }
}

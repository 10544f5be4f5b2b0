package io.diminuendo.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The exact text of the event frame (docs/protocol.md, "Streams"), without Quarkus. */
class EventFrameEncodingTest {

    @Test
    void encodesEveryFieldInOrder() {
        assertThat(ServerFrames.event("s-1", 42, "t-1", EventKind.TEXT_DELTA, 1_760_000_000_000L, "{\"text\":\"hi\"}"))
                .isEqualTo("{\"type\":\"event\",\"sessionId\":\"s-1\",\"seq\":42,\"turnId\":\"t-1\",\"kind\":\"text_delta\","
                        + "\"ts\":1760000000000,\"data\":{\"text\":\"hi\"}}");
    }

    @Test
    void encodesANullTurnIdAndEscapesStrings() {
        assertThat(ServerFrames.event("s\"1\n", Long.MAX_VALUE, null, EventKind.STATUS, Long.MIN_VALUE, "{}"))
                .isEqualTo("{\"type\":\"event\",\"sessionId\":\"s\\\"1\\n\",\"seq\":9223372036854775807,\"turnId\":null,"
                        + "\"kind\":\"status\",\"ts\":-9223372036854775808,\"data\":{}}");
    }
}

package io.diminuendo.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

/** The close codes and reasons on the wire (docs/protocol.md, "Errors"): clients act on the codes, people read the reasons. */
class CloseCodeTest {

    @Test
    void everySituationKeepsItsCodeAndReason() {
        Map<CloseCode, String> wire = Arrays.stream(CloseCode.values())
                .collect(Collectors.toMap(c -> c, c -> c.code() + " " + c.reason()));
        assertThat(wire).containsExactlyInAnyOrderEntriesOf(Map.ofEntries(
                Map.entry(CloseCode.SHUTTING_DOWN, "1001 server shutting down"),
                Map.entry(CloseCode.IDLE_TIMEOUT, "1001 idle timeout"),
                Map.entry(CloseCode.PROTOCOL_ERROR, "1002 protocol error"),
                Map.entry(CloseCode.INVALID_UTF8, "1007 text frame is not valid UTF-8"),
                Map.entry(CloseCode.FRAME_TOO_LARGE, "1009 frame too large"),
                Map.entry(CloseCode.INTERNAL_ERROR, "1011 internal error"),
                Map.entry(CloseCode.SLOW_CONSUMER, "4009 slow consumer: outbound queue overflow, resubscribe with afterSeq"),
                Map.entry(CloseCode.UNAUTHORIZED, "4401 unauthorized"),
                Map.entry(CloseCode.TOKEN_EXPIRED, "4401 token expired"),
                Map.entry(CloseCode.AUTH_TIMEOUT, "4408 authentication timeout"),
                Map.entry(CloseCode.TOO_MANY_CONNECTIONS, "4429 too many connections"),
                Map.entry(CloseCode.TOO_MANY_FRAMES, "4429 too many frames")));
    }
}

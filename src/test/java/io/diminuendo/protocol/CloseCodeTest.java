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
        assertThat(wire).containsExactlyInAnyOrderEntriesOf(Map.of(
                CloseCode.SHUTTING_DOWN, "1001 server shutting down",
                CloseCode.IDLE_TIMEOUT, "1001 idle timeout",
                CloseCode.FRAME_TOO_LARGE, "1009 frame too large",
                CloseCode.INTERNAL_ERROR, "1011 internal error",
                CloseCode.SLOW_CONSUMER, "4009 slow consumer: outbound queue overflow, resubscribe with afterSeq",
                CloseCode.UNAUTHORIZED, "4401 unauthorized",
                CloseCode.TOKEN_EXPIRED, "4401 token expired",
                CloseCode.AUTH_TIMEOUT, "4408 authentication timeout",
                CloseCode.TOO_MANY_CONNECTIONS, "4429 too many connections",
                CloseCode.TOO_MANY_FRAMES, "4429 too many frames"));
    }
}

package io.diminuendo.config;

import static io.diminuendo.config.TestConfigs.config;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * {@code quarkus.http.idle-timeout} against the gateway's pings: on a WebSocket that timeout does not see the streamed
 * frames, only the client's frames and pongs and the gateway's pings, so it must outlast
 * {@code diminuendo.limits.ping-interval}, or it closes quiet connections that are alive. 0 turns it off.
 */
class HttpIdleTimeoutSettingsUnitTest {

    private static List<String> problems(Map<String, String> properties, Duration httpIdleTimeout) {
        return new ConfigValidator(config(properties), 4_194_304, httpIdleTimeout).problems(false);
    }

    @Test
    void quarkusDefaultOutlastsTheDefaultPingInterval() {
        assertThat(problems(Map.of(), ConfigValidator.HTTP_IDLE_TIMEOUT_DEFAULT)).isEmpty();
    }

    @Test
    void anIdleTimeoutNoLongerThanThePingIntervalIsRefusedNamingBothProperties() {
        assertThat(problems(Map.of(), Duration.ofSeconds(30))).containsExactly("quarkus.http.idle-timeout (PT30S) must be"
                + " longer than diminuendo.limits.ping-interval (PT30S): a WebSocket's pongs are what keeps it from"
                + " closing the connection");
        assertThat(problems(Map.of("diminuendo.limits.ping-interval", "10s"), Duration.ofSeconds(30))).isEmpty();
    }

    @Test
    void anIdleTimeoutOfZeroTurnsItOffAndIsAccepted() {
        assertThat(problems(Map.of(), Duration.ZERO)).isEmpty();
    }
}

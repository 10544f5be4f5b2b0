package io.diminuendo.connection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.diminuendo.support.Keys;
import io.diminuendo.support.Metrics;
import io.diminuendo.support.RawWebSocket;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * The header-read timeout over a plain socket (issue 16, item 7): a client that sends nothing, or dribbles a request's
 * headers, is cut once {@code header-timeout} has passed, on a new connection and on a kept-alive one; a kept-alive
 * connection idle between requests and an upgraded WebSocket are not.
 */
@QuarkusTest
@TestProfile(HeaderTimeoutTest.OneSecond.class)
class HeaderTimeoutTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(1);
    /** How late the close may come on a loaded 2-core machine. */
    private static final Duration SLACK = Duration.ofSeconds(4);

    public static class OneSecond implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("diminuendo.limits.header-timeout", "1s");
        }
    }

    @TestHTTPResource("/")
    URI root;

    @TestHTTPResource("/ws")
    URI ws;

    @Test
    void closesAConnectionThatSendsNothing() throws Exception {
        double before = Metrics.sum("diminuendo_limit_hits_total", "limit=\"header_timeout\"");
        try (Socket s = connect()) {
            long start = System.nanoTime();
            s.setSoTimeout((int) (TIMEOUT.plus(SLACK).toMillis()));
            assertThat(s.getInputStream().read()).as("end of stream, nothing answered").isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(TIMEOUT.minusMillis(100));
        }
        assertThat(Metrics.sum("diminuendo_limit_hits_total", "limit=\"header_timeout\"")).isGreaterThan(before);
    }

    @Test
    void closesAConnectionThatDribblesItsHeaders() throws Exception {
        try (Socket s = connect()) {
            assertThat(dribbleUntilClosed(s)).isBetween(TIMEOUT.minusMillis(100), TIMEOUT.plus(SLACK));
        }
    }

    @Test
    void closesAKeptAliveConnectionThatDribblesItsNextRequest() throws Exception {
        try (Socket s = connect()) {
            assertThat(get(s, "/health")).startsWith("HTTP/1.1 200");
            assertThat(dribbleUntilClosed(s)).isBetween(TIMEOUT.minusMillis(100), TIMEOUT.plus(SLACK));
        }
    }

    @Test
    void leavesAKeptAliveConnectionIdleBetweenRequestsOpen() throws Exception {
        try (Socket s = connect()) {
            assertThat(get(s, "/health")).startsWith("HTTP/1.1 200");
            s.setSoTimeout((int) TIMEOUT.multipliedBy(3).toMillis());
            assertThatThrownBy(() -> s.getInputStream().read()).as("neither a byte nor the end of the stream")
                    .isInstanceOf(SocketTimeoutException.class);
            assertThat(get(s, "/health")).startsWith("HTTP/1.1 200");
        }
    }

    @Test
    void leavesAnUpgradedWebSocketIdleLongerThanTheTimeoutOpen() throws Exception {
        try (RawWebSocket raw = RawWebSocket.connect(ws, 65536)) {
            raw.authenticate(Keys.ALICE);
            raw.readTimeout(TIMEOUT.multipliedBy(3));
            // (a liveness ping of the gateway may come meanwhile: read() skips it)
            assertThatThrownBy(raw::read).as("neither a frame nor the end of the stream")
                    .isInstanceOf(SocketTimeoutException.class);
            raw.readTimeout(Duration.ofSeconds(10));
            raw.sendText("{\"type\":\"ping\",\"id\":\"still-there\"}");
            assertThat(raw.readTextUntil("still-there")).contains("pong");
        }
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(root.getHost(), root.getPort()), 5000);
        return s;
    }

    /**
     * Sends a request head a byte every 50 ms, never finishing it, until the server closes the connection; returns how
     * long that took. Fails if it stays open past the timeout and the slack.
     */
    private static Duration dribbleUntilClosed(Socket s) throws IOException {
        String head = "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(1000);
        long start = System.nanoTime();
        OutputStream out = s.getOutputStream();
        InputStream in = s.getInputStream();
        s.setSoTimeout(50);
        byte[] bytes = head.getBytes(StandardCharsets.US_ASCII);
        for (byte b : bytes) {
            Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
            assertThat(elapsed).as("still open while dribbling").isLessThan(TIMEOUT.plus(SLACK));
            try {
                out.write(b);
                out.flush();
                if (in.read() < 0) {
                    return Duration.ofNanos(System.nanoTime() - start);
                }
            } catch (SocketTimeoutException e) {
                continue;
            } catch (IOException e) {
                // reset, or a write to a closed connection
                return Duration.ofNanos(System.nanoTime() - start);
            }
        }
        throw new AssertionError("the whole head was sent without the connection being closed");
    }

    /** Sends a GET on the kept-alive connection and returns the response head and body. */
    private static String get(Socket s, String path) throws IOException {
        s.setSoTimeout(10_000);
        OutputStream out = s.getOutputStream();
        out.write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed before the response head ended: " + head);
            }
            head.write(b);
            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String text = head.toString(StandardCharsets.US_ASCII);
        int length = text.lines().filter(l -> l.toLowerCase().startsWith("content-length:"))
                .mapToInt(l -> Integer.parseInt(l.substring(l.indexOf(':') + 1).trim())).findFirst()
                .orElseThrow(() -> new AssertionError("no content-length: " + text));
        return text + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }
}

package io.diminuendo.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.support.TestCluster;

/**
 * A pod's view of its bus: with NATS reached through a TCP relay that the test can cut, readiness and
 * {@code /health} report the bus up, then down (readiness 503, {@code /health} degraded) while NATS cannot be
 * reached, and up again once it can, without a restart.
 */
class BusHealthIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Relays TCP connections to NATS until cut; a cut closes every relayed connection and refuses new ones. */
    static final class Relay implements AutoCloseable {
        private final int target;
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();
        private final ServerSocket server;
        private volatile boolean open = true;

        Relay(int target) throws IOException {
            this.target = target;
            this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread acceptor = new Thread(this::accept, "nats-relay");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket client = server.accept();
                    if (!open) {
                        client.close();
                        continue;
                    }
                    Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
                    sockets.add(client);
                    sockets.add(upstream);
                    pump(client, upstream);
                    pump(upstream, client);
                } catch (IOException e) {
                    // a refused or failed connection: the client tries again
                }
            }
        }

        private void pump(Socket from, Socket to) {
            Thread t = new Thread(() -> {
                byte[] buffer = new byte[16384];
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    int n;
                    while ((n = in.read(buffer)) >= 0) {
                        out.write(buffer, 0, n);
                    }
                } catch (IOException e) {
                    // cut
                } finally {
                    closeQuietly(from);
                    closeQuietly(to);
                }
            }, "nats-relay-pump");
            t.setDaemon(true);
            t.start();
        }

        void cut() {
            open = false;
            sockets.forEach(Relay::closeQuietly);
            sockets.clear();
        }

        void restore() {
            open = true;
        }

        private static void closeQuietly(Socket s) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already closed
            }
        }

        @Override
        public void close() throws IOException {
            cut();
            server.close();
        }
    }

    private static JsonNode json(String body) throws IOException {
        return JSON.readTree(body);
    }

    private static String busCheck(JsonNode readiness) {
        for (JsonNode check : readiness.path("checks")) {
            if ("bus".equals(check.path("name").asText())) {
                return check.path("status").asText();
            }
        }
        return "missing";
    }

    @Test
    void readinessAndHealthFollowTheBusDownAndBackUpWithoutARestart() throws Exception {
        int natsPort = URI.create(TestCluster.NATS).getPort();
        try (Relay relay = new Relay(natsPort);
                TestCluster cluster = new TestCluster("bus-health", 1,
                        "-Ddiminuendo.bus.url=nats://127.0.0.1:" + relay.port())) {
            var pod = cluster.pod(0);
            JsonNode ready = json(pod.get("/q/health/ready"));
            assertThat(ready.path("status").asText()).isEqualTo("UP");
            assertThat(busCheck(ready)).isEqualTo("UP");
            JsonNode health = json(pod.get("/health"));
            assertThat(health.path("bus").path("kind").asText()).isEqualTo("nats");
            assertThat(health.path("bus").path("status").asText()).isEqualTo("up");

            relay.cut();
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200))
                    .until(() -> "DOWN".equals(busCheck(json(pod.get("/q/health/ready")))));
            assertThat(json(pod.get("/q/health/ready")).path("status").asText()).isEqualTo("DOWN");
            JsonNode degraded = json(pod.get("/health"));
            assertThat(degraded.path("status").asText()).isEqualTo("degraded");
            assertThat(degraded.path("bus").path("status").asText()).isEqualTo("down");
            assertThat(json(pod.get("/q/health/live")).path("status").asText())
                    .as("liveness does not look at the bus: a restart would not bring NATS back").isEqualTo("UP");

            relay.restore();
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200))
                    .until(() -> "UP".equals(json(pod.get("/q/health/ready")).path("status").asText()));
            assertThat(busCheck(json(pod.get("/q/health/ready")))).isEqualTo("UP");
            assertThat(json(pod.get("/health")).path("bus").path("status").asText()).isEqualTo("up");
        }
    }
}

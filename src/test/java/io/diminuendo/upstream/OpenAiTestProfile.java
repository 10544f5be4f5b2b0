package io.diminuendo.upstream;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * The gateway with two OpenAI-compatible backends besides the simulator: {@code fake}, served by a
 * {@link FakeOpenAiServer} started for the profile, and {@code dead}, pointing at a port nobody listens on
 * (until a test does).
 */
public class OpenAiTestProfile implements QuarkusTestProfile {

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(FakeServerResource.class));
    }

    /** Starts the fake server before the application and hands its URL to the configuration. */
    public static class FakeServerResource implements QuarkusTestResourceLifecycleManager {
        static volatile FakeOpenAiServer server;
        static volatile int deadPort;

        @Override
        public Map<String, String> start() {
            try {
                server = FakeOpenAiServer.start();
                try (ServerSocket s = new ServerSocket(0)) {
                    deadPort = s.getLocalPort();
                }
                return Map.of(
                        "diminuendo.backends.fake.kind", "openai",
                        "diminuendo.backends.fake.url", server.url(),
                        "diminuendo.backends.fake.model", "test-model",
                        "diminuendo.backends.fake.api-key", "test-key",
                        "diminuendo.backends.fake.idle-timeout", "3s",
                        "diminuendo.backends.dead.kind", "openai",
                        "diminuendo.backends.dead.url", "http://127.0.0.1:" + deadPort,
                        "diminuendo.backends.dead.connect-timeout", "2s",
                        "diminuendo.backends.dead.reconnect-min", "200ms",
                        "diminuendo.backends.dead.reconnect-max", "1s");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void stop() {
            try {
                if (server != null) {
                    server.close();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}

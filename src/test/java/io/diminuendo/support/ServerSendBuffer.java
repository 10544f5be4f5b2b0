package io.diminuendo.support;

import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkus.vertx.http.HttpServerOptionsCustomizer;
import io.vertx.core.http.HttpServerOptions;

/**
 * Test-only: when {@code diminuendo-test.server-send-buffer-bytes} is set (by a test profile), fixes the server
 * sockets' SO_SNDBUF. On loopback Linux otherwise grows a socket's send buffer to megabytes, so a client that
 * stops reading would only fill the gateway's outbound queue after thousands of events.
 */
@Singleton
public class ServerSendBuffer implements HttpServerOptionsCustomizer {
    @ConfigProperty(name = "diminuendo-test.server-send-buffer-bytes", defaultValue = "0")
    int bytes;

    @Override
    public void customizeHttpServer(HttpServerOptions options) {
        if (bytes > 0) {
            options.setSendBufferSize(bytes);
        }
    }
}

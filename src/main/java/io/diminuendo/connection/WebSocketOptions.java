package io.diminuendo.connection;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkus.vertx.http.HttpServerOptionsCustomizer;
import io.vertx.core.http.HttpServerOptions;

/**
 * WebSocket options of the HTTP server: no compression extension, per message or per frame. The gateway sends many
 * small frames, where deflate costs more CPU than it saves; and with no extension negotiable, a frame with an RSV
 * bit set is a protocol error that the WebSocket decoder refuses and {@link FrameViolations} answers with close 1002, as
 * RFC 6455 (5.2) requires, instead of serving it.
 */
@ApplicationScoped
public class WebSocketOptions implements HttpServerOptionsCustomizer {
    @Override
    public void customizeHttpServer(HttpServerOptions options) {
        options.setPerMessageWebSocketCompressionSupported(false);
        options.setPerFrameWebSocketCompressionSupported(false);
    }
}

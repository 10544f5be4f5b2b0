package io.diminuendo.console;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.diminuendo.api.HttpErrors;
import io.diminuendo.config.GatewayConfig;
import io.diminuendo.protocol.Json;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * Serves the web console at {@code /} and the browser client library at {@code /diminuendo-client.js} from files
 * read once from the classpath ({@code src/main/resources/console}): no build step, no CDN, nothing fetched from
 * elsewhere. Every answer carries a strict Content-Security-Policy (scripts and styles from this origin only, no
 * inline code, no framing) and an ETag, so a browser revalidates cheaply. {@code diminuendo.console.enabled=false}
 * leaves the console's routes out; the library stays.
 */
@ApplicationScoped
public class ConsoleRoutes {
    /** Nothing but this origin's own files and its WebSocket; no inline script or style, no frames, no forms. */
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private final GatewayConfig config;
    private final String version;

    public ConsoleRoutes(GatewayConfig config,
            @ConfigProperty(name = "quarkus.application.version", defaultValue = "dev") String version) {
        this.config = config;
        this.version = version;
    }

    void register(@Observes Router router) {
        serve(router, "/diminuendo-client.js", "diminuendo-client.js", "text/javascript; charset=utf-8");
        serve(router, "/diminuendo-client.d.ts", "diminuendo-client.d.ts", "application/typescript; charset=utf-8");
        if (!config.console().enabled()) {
            return;
        }
        serve(router, "/", "index.html", "text/html; charset=utf-8");
        serve(router, "/console/app.js", "app.js", "text/javascript; charset=utf-8");
        serve(router, "/console/app.css", "app.css", "text/css; charset=utf-8");
        serve(router, "/console/icon.svg", "icon.svg", "image/svg+xml");
        String settings = Json.obj().bool("simMenu", config.console().simMenu()).str("version", version).end();
        serve(router, "/console/settings.json", new Asset(settings.getBytes(StandardCharsets.UTF_8),
                "application/json"));
    }

    private static void serve(Router router, String path, String file, String contentType) {
        serve(router, path, new Asset(read(file), contentType));
    }

    private static void serve(Router router, String path, Asset asset) {
        router.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD).handler(asset::answer);
        router.route(path).handler(ctx -> HttpErrors.refuseMethod(ctx, "GET, HEAD", path + " only answers GET and HEAD"));
    }

    private static byte[] read(String file) {
        try (InputStream in = ConsoleRoutes.class.getClassLoader().getResourceAsStream("console/" + file)) {
            if (in == null) {
                throw new IllegalStateException("console/" + file + " is missing from the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One file, its type and its ETag (a hash of the content), answered from memory. */
    record Asset(Buffer body, String contentType, String etag) {
        Asset(byte[] bytes, String contentType) {
            this(Buffer.buffer(bytes), contentType, etag(bytes));
        }

        private static String etag(byte[] bytes) {
            try {
                byte[] hash = MessageDigest.getInstance("SHA-256").digest(bytes);
                return '"' + HexFormat.of().formatHex(hash, 0, 12) + '"';
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        void answer(RoutingContext ctx) {
            var response = ctx.response();
            response.putHeader("content-security-policy", CSP)
                    .putHeader("x-content-type-options", "nosniff")
                    .putHeader("referrer-policy", "no-referrer")
                    .putHeader("x-frame-options", "DENY")
                    .putHeader("cache-control", "no-cache")
                    .putHeader("etag", etag);
            if (etag.equals(ctx.request().getHeader("if-none-match"))) {
                response.setStatusCode(304).end();
                return;
            }
            response.putHeader("content-type", contentType);
            if (ctx.request().method() == HttpMethod.HEAD) {
                response.putHeader("content-length", Integer.toString(body.length())).end();
            } else {
                response.end(body);
            }
        }
    }
}

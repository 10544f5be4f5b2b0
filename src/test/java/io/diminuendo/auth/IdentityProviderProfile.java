package io.diminuendo.auth;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * A stand-in identity provider: a JWKS endpoint on a local port whose key set the test can change (a rotation),
 * counting the requests it gets; the gateway is configured with its URL, an issuer and an audience.
 */
public class IdentityProviderProfile implements QuarkusTestProfile {
    public static final String ISSUER = "https://idp.example.test/realms/acme";
    public static final String AUDIENCE = "diminuendo";

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(Provider.class));
    }

    /**
     * The provider's keys: {@code rsa-1} at start; {@code POST /rotate} publishes {@code rsa-2} and {@code ec-1} too,
     * {@code GET /requests} counts the fetches of the key set. The resource runs in another class loader than the
     * test, so the test reaches it over HTTP ({@link #url}) and reads the private keys from files ({@link #privateKey}).
     */
    public static final class Provider implements QuarkusTestResourceLifecycleManager {
        private static final Path KEYS = Path.of("target", "idp-keys");
        private static final String URL_FILE = "url";
        private final AtomicInteger requests = new AtomicInteger();
        private volatile String document;
        private HttpServer server;

        /** The private key of {@code kid}, as the provider that signs the tokens holds it. */
        public static PrivateKey privateKey(String kid) {
            try {
                byte[] der = Files.readAllBytes(KEYS.resolve(kid + ".der"));
                return KeyFactory.getInstance(kid.startsWith("ec") ? "EC" : "RSA")
                        .generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (IOException | GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        /** The provider's base URL. */
        public static String url() {
            try {
                return Files.readString(KEYS.resolve(URL_FILE));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public Map<String, String> start() {
            Map<String, KeyPair> all = new LinkedHashMap<>();
            all.put("rsa-1", generate("RSA", null));
            all.put("rsa-2", generate("RSA", null));
            all.put("ec-1", generate("EC", "secp256r1"));
            try {
                Files.createDirectories(KEYS);
                for (Map.Entry<String, KeyPair> e : all.entrySet()) {
                    Files.write(KEYS.resolve(e.getKey() + ".der"), e.getValue().getPrivate().getEncoded());
                }
                server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            document = jwks(Map.of("rsa-1", all.get("rsa-1")));
            server.createContext("/jwks", exchange -> {
                requests.incrementAndGet();
                respond(exchange, document);
            });
            server.createContext("/rotate", exchange -> {
                document = jwks(all);
                respond(exchange, "{}");
            });
            server.createContext("/requests", exchange -> respond(exchange, Integer.toString(requests.get())));
            server.start();
            String url = "http://127.0.0.1:" + server.getAddress().getPort();
            try {
                Files.writeString(KEYS.resolve(URL_FILE), url);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("diminuendo.auth.jwks-url", url + "/jwks",
                    "diminuendo.auth.issuer", ISSUER,
                    "diminuendo.auth.audience", AUDIENCE,
                    "diminuendo.auth.jwks-min-refresh-interval", "2s");
        }

        private static void respond(HttpExchange exchange, String text) throws IOException {
            byte[] body = text.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }

        @Override
        public void stop() {
            if (server != null) {
                server.stop(0);
            }
        }

        private static KeyPair generate(String algorithm, String curve) {
            try {
                KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
                if (curve != null) {
                    g.initialize(new ECGenParameterSpec(curve));
                } else {
                    g.initialize(2048);
                }
                return g.generateKeyPair();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        private static String jwks(Map<String, KeyPair> keys) {
            List<String> jwks = new ArrayList<>();
            for (Map.Entry<String, KeyPair> e : keys.entrySet()) {
                if (e.getValue().getPublic() instanceof RSAPublicKey rsa) {
                    jwks.add("{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\",\"kid\":\"" + e.getKey() + "\",\"n\":\""
                            + TestTokens.base64Url(rsa.getModulus()) + "\",\"e\":\""
                            + TestTokens.base64Url(rsa.getPublicExponent()) + "\"}");
                } else {
                    ECPublicKey ec = (ECPublicKey) e.getValue().getPublic();
                    jwks.add("{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"" + e.getKey() + "\",\"x\":\""
                            + TestTokens.base64Url(ec.getW().getAffineX()) + "\",\"y\":\""
                            + TestTokens.base64Url(ec.getW().getAffineY()) + "\"}");
                }
            }
            // a key for encryption is published too, as providers do: it must not be used to verify
            jwks.add("{\"kty\":\"RSA\",\"use\":\"enc\",\"kid\":\"enc-1\",\"n\":\""
                    + TestTokens.base64Url(BigInteger.valueOf(65537)) + "\",\"e\":\"AQAB\"}");
            return "{\"keys\":[" + String.join(",", jwks) + "]}";
        }
    }
}

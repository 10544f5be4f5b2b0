package io.diminuendo.auth;

import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The signing keys an identity provider publishes as a JSON Web Key Set at a URL: RSA keys (RS256) and EC P-256
 * keys (ES256), by {@code kid}. Fetched at start-up, again every {@code refresh}, and when a token names a key id
 * the set does not hold (the provider rotated its keys): that refresh runs at most once per {@code minInterval}, so a
 * flood of tokens with made-up key ids costs the provider one request per interval. Fetches are asynchronous;
 * lookups read an immutable map.
 */
public final class Jwks implements JwtVerifier.KeySource {
    private static final Logger LOG = Logger.getLogger(Jwks.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BYTES = 1 << 20;

    private final URI uri;
    private final HttpClient http;
    private final long minIntervalNanos;
    private final LongSupplier nanoTime;
    private volatile Map<String, PublicKey> keys = Map.of();
    private CompletableFuture<Boolean> inFlight;
    private long lastStartNanos;
    private boolean started;
    private volatile Runnable onRefresh = () -> {
    };
    private volatile Runnable onFailure = () -> {
    };

    public Jwks(URI uri, Duration minInterval) {
        this(uri, minInterval, System::nanoTime);
    }

    Jwks(URI uri, Duration minInterval, LongSupplier nanoTime) {
        this.uri = uri;
        this.minIntervalNanos = minInterval.toNanos();
        this.nanoTime = nanoTime;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** Counts refreshes and failed refreshes (metrics). */
    public void observe(Runnable refreshed, Runnable failed) {
        this.onRefresh = refreshed;
        this.onFailure = failed;
    }

    @Override
    public PublicKey find(String kid) {
        Map<String, PublicKey> current = keys;
        if (kid != null) {
            return current.get(kid);
        }
        return current.size() == 1 ? current.values().iterator().next() : null;
    }

    /** Key ids held now. */
    public Set<String> keyIds() {
        return keys.keySet();
    }

    /**
     * Fetches the set again unless a fetch started less than {@code minInterval} ago; completes with true once the
     * keys were replaced, false when the fetch was skipped or failed (the keys held stay).
     */
    public synchronized CompletionStage<Boolean> refreshIfDue() {
        long now = nanoTime.getAsLong();
        if (inFlight != null && !inFlight.isDone()) {
            return inFlight;
        }
        if (started && now - lastStartNanos < minIntervalNanos) {
            return CompletableFuture.completedFuture(false);
        }
        started = true;
        lastStartNanos = now;
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                .header("Accept", "application/json").GET().build();
        inFlight = http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).handle((response, failure) -> {
            try {
                if (failure != null) {
                    throw new IllegalStateException("cannot reach it: " + failure.getMessage());
                }
                if (response.statusCode() != 200) {
                    throw new IllegalStateException("HTTP " + response.statusCode());
                }
                if (response.body().length > MAX_BYTES) {
                    throw new IllegalStateException("larger than " + MAX_BYTES + " bytes");
                }
                Map<String, PublicKey> parsed = parse(response.body());
                keys = parsed;
                onRefresh.run();
                LOG.debugf("JWKS %s: %d keys %s", uri, parsed.size(), parsed.keySet());
                return true;
            } catch (RuntimeException e) {
                onFailure.run();
                LOG.warnf("fetching the JWKS at %s (diminuendo.auth.jwks-url) failed: %s; the %d keys held stay",
                        uri, e.getMessage(), keys.size());
                return false;
            }
        });
        return inFlight;
    }

    /**
     * The signature keys of a JWK Set document: {@code kty} RSA ({@code n}, {@code e}) and EC on P-256
     * ({@code x}, {@code y}); keys for encryption ({@code use: enc}) or other types are skipped. A key without a
     * {@code kid} is held under the empty id.
     */
    static Map<String, PublicKey> parse(byte[] document) {
        JsonNode root;
        try {
            root = JSON.readTree(document);
        } catch (IOException e) {
            throw new IllegalStateException("not JSON");
        }
        JsonNode list = root == null ? null : root.get("keys");
        if (list == null || !list.isArray()) {
            throw new IllegalStateException("no \"keys\" array");
        }
        Map<String, PublicKey> out = new HashMap<>();
        for (JsonNode jwk : list) {
            String use = jwk.path("use").asText("sig");
            if (!use.equals("sig")) {
                continue;
            }
            try {
                PublicKey key = switch (jwk.path("kty").asText()) {
                    case "RSA" -> KeyFactory.getInstance("RSA").generatePublic(
                            new RSAPublicKeySpec(unsigned(jwk, "n"), unsigned(jwk, "e")));
                    case "EC" -> ecKey(jwk);
                    default -> null;
                };
                if (key != null) {
                    out.put(jwk.path("kid").asText(""), key);
                }
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                LOG.warnf("skipping JWK %s: %s", jwk.path("kid").asText("(no kid)"), e.getMessage());
            }
        }
        return Map.copyOf(out);
    }

    private static PublicKey ecKey(JsonNode jwk) throws GeneralSecurityException {
        if (!"P-256".equals(jwk.path("crv").asText())) {
            return null;
        }
        AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
        parameters.init(new ECGenParameterSpec("secp256r1"));
        ECParameterSpec p256 = parameters.getParameterSpec(ECParameterSpec.class);
        ECPoint point = new ECPoint(unsigned(jwk, "x"), unsigned(jwk, "y"));
        return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(point, p256));
    }

    private static BigInteger unsigned(JsonNode jwk, String field) {
        JsonNode value = jwk.get(field);
        if (value == null || !value.isTextual() || value.textValue().isEmpty()) {
            throw new IllegalArgumentException("missing " + field);
        }
        return new BigInteger(1, Base64.getUrlDecoder().decode(value.textValue()));
    }
}

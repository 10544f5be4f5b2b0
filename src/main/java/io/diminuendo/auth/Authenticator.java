package io.diminuendo.auth;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import jakarta.enterprise.context.ApplicationScoped;

import io.diminuendo.config.GatewayConfig;
import io.diminuendo.metrics.GatewayMetrics;
import io.quarkus.runtime.Startup;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

/**
 * Turns a bearer token (JWT or static API key) into an {@link Identity}. Thread-safe, no I/O per call. Created at
 * start-up, so key material that cannot be used stops the start, naming the property.
 */
@Startup
@ApplicationScoped
public class Authenticator {
    private final JwtVerifier jwt;
    private final Jwks jwks;
    private final Map<String, Identity> apiKeysByDigest;
    private final byte[] jwtSecret;
    private final PublicKey jwtPublicKey;
    /** The start-up warm-up's one-off key: its digest and identity, only while the warm-up runs. */
    private volatile Map.Entry<String, Identity> warmupKey;
    /** The tokens {@link #warmJwt} verifies, minted when the warm-up key opens (none without JWT keys). */
    private volatile List<String> warmupTokens = List.of();

    public Authenticator(GatewayConfig config, GatewayMetrics metrics, Vertx vertx) {
        GatewayConfig.Auth auth = config.auth();
        byte[] secret = auth.jwtSecret().map(s -> s.getBytes(StandardCharsets.UTF_8)).orElse(null);
        PublicKey publicKey = auth.jwtPublicKeyLocation().map(Authenticator::readKey).orElse(null);
        this.jwtSecret = secret;
        this.jwtPublicKey = publicKey;
        this.jwks = auth.jwksUrl().map(url -> new Jwks(URI.create(url), auth.jwksMinRefreshInterval())).orElse(null);
        this.jwt = secret == null && publicKey == null && jwks == null ? null
                : new JwtVerifier(secret, publicKey, jwks, auth.issuer().orElse(null), auth.audience().orElse(null),
                        auth.leeway().toSeconds(), Clock.systemUTC());
        if (jwks != null) {
            jwks.observe(metrics.jwksRefreshes::increment, metrics.jwksFailures::increment);
            jwks.refreshIfDue();
            vertx.setPeriodic(auth.jwksRefresh().toMillis(), id -> jwks.refreshIfDue());
        }
        this.apiKeysByDigest = new HashMap<>();
        auth.apiKeys().forEach((name, k) -> apiKeysByDigest.put(digest(k.key()),
                Identity.of(k.userId(), k.tenantId(), k.scopes(), Long.MAX_VALUE)));
    }

    private static PublicKey readKey(String location) {
        try {
            return PublicKeys.fromPem(Files.readString(Path.of(location)));
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException("diminuendo.auth.jwt-public-key-location: cannot use " + location + ": "
                    + e.getMessage(), e);
        }
    }

    /** Returns the identity for {@code token}; throws with a reason the client may see (never the token). */
    public Identity authenticate(String token) throws InvalidTokenException {
        if (token == null || token.isBlank()) {
            throw new InvalidTokenException("missing token");
        }
        String digest = digest(token);
        Identity key = apiKeysByDigest.get(digest);
        if (key != null) {
            return key;
        }
        Map.Entry<String, Identity> warmup = warmupKey;
        if (warmup != null && warmup.getKey().equals(digest)) {
            return warmup.getValue();
        }
        if (jwt == null || !JwtVerifier.looksLikeJwt(token)) {
            throw new InvalidTokenException("unknown API key or malformed token");
        }
        TokenClaims claims = jwt.verify(token);
        long exp = claims.expiresAtEpochSeconds() == null ? Long.MAX_VALUE : claims.expiresAtEpochSeconds() * 1000;
        return Identity.of(claims.subject(), claims.tenantId(), claims.scope(), exp);
    }

    /**
     * As {@link #authenticate}, but a JWT signed with a key the key set does not hold yet (the provider rotated its
     * keys) waits for one refresh of the set (at most one per {@code jwks-min-refresh-interval}) and is verified
     * again, and completes on the caller's Vert.x context (when it has one). Completes at once in every other case.
     * Never blocks the caller.
     */
    public CompletionStage<Identity> authenticateAsync(String token) {
        try {
            return CompletableFuture.completedFuture(authenticate(token));
        } catch (JwtVerifier.UnknownKeyException unknown) {
            // the refresh completes on the HTTP client's thread: the caller continues on its own event loop
            Context caller = Vertx.currentContext();
            CompletionStage<Identity> afterRefresh = jwks.refreshIfDue().thenCompose(refreshed -> {
                if (!refreshed) {
                    return CompletableFuture.failedFuture(unknown);
                }
                try {
                    return CompletableFuture.completedFuture(authenticate(token));
                } catch (InvalidTokenException e) {
                    return CompletableFuture.failedFuture(e);
                }
            });
            return caller == null ? afterRefresh : onContext(afterRefresh, caller);
        } catch (InvalidTokenException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Opens a key for the start-up warm-up: random, held in memory only, valid for {@code tenantId}/{@code userId}
     * with every scope until {@link #closeWarmupKey()}; also mints the tokens {@link #warmJwt} verifies.
     */
    public String openWarmupKey(String tenantId, String userId) {
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        String key = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        warmupKey = Map.entry(digest(key), Identity.of(userId, tenantId, "sessions:read sessions:write sessions:admin",
                Long.MAX_VALUE));
        warmupTokens = jwt == null ? List.of() : warmupTokens(tenantId, userId);
        return key;
    }

    public void closeWarmupKey() {
        warmupKey = null;
        warmupTokens = List.of();
    }

    /**
     * A token signed with the configured HS256 secret, and one for the configured public key with a signature that
     * does not match (its check still runs in full); valid for ten minutes.
     */
    private List<String> warmupTokens(String tenantId, String userId) {
        long exp = Clock.systemUTC().instant().getEpochSecond() + 600;
        String claims = "{\"sub\":\"" + userId + "\",\"tid\":\"" + tenantId + "\",\"scope\":\"sessions:read\",\"exp\":"
                + exp + "}";
        List<String> tokens = new ArrayList<>(2);
        if (jwtSecret != null) {
            tokens.add(warmupToken("HS256", claims, jwtSecret));
        }
        if (jwtPublicKey != null) {
            tokens.add(warmupToken("EC".equals(jwtPublicKey.getAlgorithm()) ? "ES256" : "RS256", claims, null));
        }
        return tokens;
    }

    /**
     * Runs the JWT verifier {@code rounds} times in process on the warm-up's tokens (see {@link #openWarmupKey}), so
     * the first real token does not pay for class loading and interpretation. Nothing when no JWT key is configured
     * or no warm-up key is open.
     *
     * @return how many verifications accepted their token (the HS256 one, once a round, when a secret is configured)
     */
    public int warmJwt(int rounds) {
        List<String> tokens = warmupTokens;
        int accepted = 0;
        for (int i = 0; i < rounds; i++) {
            for (String token : tokens) {
                try {
                    jwt.verify(token);
                    accepted++;
                } catch (InvalidTokenException expected) {
                    // the public-key token's signature is not valid: the verification ran, which is the point
                }
            }
        }
        return accepted;
    }

    /** A compact JWS of {@code claims}: HMAC-signed with {@code secret}, or with 64 zero bytes as its signature. */
    private static String warmupToken(String alg, String claims, byte[] secret) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String input = b64.encodeToString(("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}").getBytes(StandardCharsets.UTF_8))
                + "." + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        byte[] signature = new byte[64];
        if (secret != null) {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(secret, "HmacSHA256"));
                signature = mac.doFinal(input.getBytes(StandardCharsets.US_ASCII));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 unavailable", e);
            }
        }
        return input + "." + b64.encodeToString(signature);
    }

    private static <T> CompletionStage<T> onContext(CompletionStage<T> stage, Context context) {
        CompletableFuture<T> out = new CompletableFuture<>();
        stage.whenComplete((value, failure) -> context.runOnContext(v -> {
            if (failure != null) {
                out.completeExceptionally(failure);
            } else {
                out.complete(value);
            }
        }));
        return out;
    }

    /** Extracts the token from an {@code Authorization: Bearer …} header value, or null. */
    public static String bearer(String header) {
        if (header == null || header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return header.substring(7).trim();
    }

    private static String digest(String key) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(sha.digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

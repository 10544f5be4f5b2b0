package io.diminuendo.auth;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.time.Clock;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

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

    public Authenticator(GatewayConfig config, GatewayMetrics metrics, Vertx vertx) {
        GatewayConfig.Auth auth = config.auth();
        byte[] secret = auth.jwtSecret().map(s -> s.getBytes(StandardCharsets.UTF_8)).orElse(null);
        PublicKey publicKey = auth.jwtPublicKeyLocation().map(Authenticator::readKey).orElse(null);
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
        Identity key = apiKeysByDigest.get(digest(token));
        if (key != null) {
            return key;
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

package io.diminuendo.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;

import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.time.Clock;
import java.util.Date;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The checks {@link JwtVerifier} makes, done with Nimbus JOSE+JWT instead: for the cross-check test and the benchmark
 * only, never on the runtime classpath.
 *
 * <p>Configured like {@code JwtVerifier}: an HMAC secret enables HS256, an RSA key RS256, an EC P-256 key ES256. One
 * Nimbus verifier per key is built here and reused for every token, and so is the claims verifier. The claims verifier
 * checks {@code exp} and {@code nbf} with the leeway, {@code iss} and {@code aud} when configured, and that {@code sub}
 * and {@code tid} are present; the claims the gateway reads are then read with Nimbus' typed getters, which refuse a
 * claim of the wrong type. The one rule added by hand is the gateway's own: {@code sub} and {@code tid} must not be
 * null or empty.
 */
final class NimbusJwtVerifier {

    private final Map<JWSAlgorithm, JWSVerifier> verifiers = new HashMap<>();
    private final DefaultJWTClaimsVerifier<SecurityContext> claimsVerifier;

    NimbusJwtVerifier(byte[] hmacSecret, PublicKey publicKey, String issuer, String audience, long leewaySeconds,
            Clock clock) throws JOSEException {
        if (hmacSecret != null) {
            verifiers.put(JWSAlgorithm.HS256, new MACVerifier(hmacSecret));
        }
        if (publicKey instanceof RSAPublicKey rsa) {
            verifiers.put(JWSAlgorithm.RS256, new RSASSAVerifier(rsa));
        } else if (publicKey instanceof ECPublicKey ec) {
            verifiers.put(JWSAlgorithm.ES256, new ECDSAVerifier(ec));
        }
        claimsVerifier = new DefaultJWTClaimsVerifier<>(
                audience == null ? null : Set.of(audience),
                issuer == null ? null : new JWTClaimsSet.Builder().issuer(issuer).build(),
                Set.of("sub", "tid"),
                null) {
            @Override
            protected Date currentTime() {
                return Date.from(clock.instant());
            }
        };
        claimsVerifier.setMaxClockSkew(Math.toIntExact(leewaySeconds));
    }

    TokenClaims verify(String compactJwt) throws InvalidTokenException {
        try {
            SignedJWT jwt = SignedJWT.parse(compactJwt);
            JWSVerifier verifier = verifiers.get(jwt.getHeader().getAlgorithm());
            if (verifier == null) {
                throw new InvalidTokenException("alg " + jwt.getHeader().getAlgorithm() + " not accepted");
            }
            if (!jwt.verify(verifier)) {
                throw new InvalidTokenException("signature does not verify");
            }
            JWTClaimsSet claims = jwt.getJWTClaimsSet();
            claimsVerifier.verify(claims, null);
            String subject = claims.getSubject();
            String tenantId = claims.getStringClaim("tid");
            String scope = claims.getStringClaim("scope");
            claims.getIssueTime();
            Date expiresAt = claims.getExpirationTime();
            if (subject == null || subject.isEmpty() || tenantId == null || tenantId.isEmpty()) {
                throw new InvalidTokenException("sub and tid must be non-empty strings");
            }
            return new TokenClaims(subject, tenantId, scope, expiresAt == null ? null : expiresAt.getTime() / 1000);
        } catch (ParseException | JOSEException | BadJWTException | IllegalStateException e) {
            throw new InvalidTokenException(String.valueOf(e.getMessage()), e);
        }
    }
}

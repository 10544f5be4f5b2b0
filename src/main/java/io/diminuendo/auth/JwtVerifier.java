package io.diminuendo.auth;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.time.Clock;
import java.util.Base64;
import java.util.Objects;
import java.util.regex.Pattern;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies compact JWS tokens signed with HS256, RS256 or ES256 and reads their claims.
 *
 * <p>Only the algorithms backed by a configured key are accepted: HS256 needs the HMAC secret, RS256 an RSA
 * public key and ES256 an EC P-256 public key, either configured or found by the token's {@code kid} in a key set
 * ({@link KeySource}, a JWKS). {@code sub} and {@code tid} are required; {@code exp} and {@code nbf} are enforced
 * when present, with the configured leeway; {@code iss} must equal the configured issuer and {@code aud} name the
 * configured audience, when those are configured. Instances are immutable and thread-safe.
 */
public final class JwtVerifier {

    static final int MAX_TOKEN_CHARS = 16 * 1024;

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    /** Signature objects are costly to look up and not thread-safe: one per thread and algorithm, re-initialised per use. */
    private static final ThreadLocal<Signature> RSA_VERIFIERS = ThreadLocal.withInitial(() -> signature("SHA256withRSA"));
    private static final ThreadLocal<Signature> EC_VERIFIERS =
            ThreadLocal.withInitial(() -> signature("SHA256withECDSAinP1363Format"));
    private static final Pattern PRINTABLE_ALG = Pattern.compile("[A-Za-z0-9+_-]{1,32}");
    private static final ECParameterSpec P256 = p256();

    private final SecretKeySpec hmacKey;
    /** One initialised HMAC per thread: {@code doFinal} leaves it ready for the next token. */
    private final ThreadLocal<Mac> macs;
    private final RSAPublicKey rsaKey;
    private final ECPublicKey ecKey;
    private final long leewaySeconds;
    private final Clock clock;
    private final KeySource keySet;
    private final String issuer;
    private final String audience;

    /** Public keys by key id, as an identity provider publishes them (a JWKS). */
    public interface KeySource {
        /** The key with id {@code kid} ({@code null}: the token names none), or null when it is not known. */
        PublicKey find(String kid);
    }

    /** The token names a key id the key set does not hold (yet): refreshing the set may help, once. */
    public static final class UnknownKeyException extends InvalidTokenException {
        private static final long serialVersionUID = 1L;

        UnknownKeyException(String kid) {
            super(kid == null ? "token names no key id (kid) and the key set has no single key for it"
                    : "token key id " + (PRINTABLE_ALG.matcher(kid).matches() ? kid : "(unprintable)")
                            + " is not in the key set");
        }
    }

    /**
     * @param hmacSecret    secret for HS256, or {@code null} to refuse HS256
     * @param publicKey     RSA key (enables RS256) or EC P-256 key (enables ES256), or {@code null}
     * @param leewaySeconds clock skew tolerated for {@code exp} and {@code nbf}, at least 0
     * @param clock         source of the current time
     * @throws IllegalArgumentException if no key is given, the key type is unsupported or the leeway is negative
     */
    public JwtVerifier(byte[] hmacSecret, PublicKey publicKey, long leewaySeconds, Clock clock) {
        this(hmacSecret, publicKey, null, null, null, leewaySeconds, clock);
    }

    /**
     * @param keySet   keys by {@code kid} for RS256/ES256 (a JWKS), or {@code null}
     * @param issuer   the required {@code iss}, or {@code null} to accept any
     * @param audience the audience {@code aud} must name, or {@code null} to accept any
     */
    public JwtVerifier(byte[] hmacSecret, PublicKey publicKey, KeySource keySet, String issuer, String audience,
            long leewaySeconds, Clock clock) {
        if (hmacSecret == null && publicKey == null && keySet == null) {
            throw new IllegalArgumentException("no verification key configured: need an HMAC secret or a public key");
        }
        this.keySet = keySet;
        this.issuer = issuer;
        this.audience = audience;
        if (hmacSecret != null && hmacSecret.length == 0) {
            throw new IllegalArgumentException("HMAC secret must not be empty");
        }
        if (leewaySeconds < 0) {
            throw new IllegalArgumentException("leeway must not be negative: " + leewaySeconds);
        }
        this.hmacKey = hmacSecret == null ? null : new SecretKeySpec(hmacSecret.clone(), "HmacSHA256");
        this.macs = hmacKey == null ? null : ThreadLocal.withInitial(() -> newMac(hmacKey));
        if (publicKey == null || publicKey instanceof RSAPublicKey) {
            this.rsaKey = (RSAPublicKey) publicKey;
            this.ecKey = null;
        } else if (publicKey instanceof ECPublicKey ec) {
            if (!isP256(ec.getParams())) {
                throw new IllegalArgumentException("EC public key must be on curve P-256 (ES256)");
            }
            this.rsaKey = null;
            this.ecKey = ec;
        } else {
            throw new IllegalArgumentException(
                    "unsupported public key type " + publicKey.getAlgorithm() + ": need RSA or EC P-256");
        }
        this.leewaySeconds = leewaySeconds;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Returns whether {@code token} has the shape of a compact JWT: three non-empty parts separated by dots.
     * Says nothing about validity; use it to tell JWTs from opaque API keys.
     */
    public static boolean looksLikeJwt(String token) {
        if (token == null) {
            return false;
        }
        int first = token.indexOf('.');
        int second = first < 0 ? -1 : token.indexOf('.', first + 1);
        return first > 0
                && second > first + 1
                && second < token.length() - 1
                && token.indexOf('.', second + 1) < 0;
    }

    /**
     * Verifies the signature and time claims of {@code compactJwt} and returns its claims.
     *
     * @throws InvalidTokenException if the token is malformed, badly signed, expired or lacks a required claim
     */
    public TokenClaims verify(String compactJwt) throws InvalidTokenException {
        if (compactJwt == null || compactJwt.isEmpty()) {
            throw new InvalidTokenException("token is empty");
        }
        if (compactJwt.length() > MAX_TOKEN_CHARS) {
            throw new InvalidTokenException("token is longer than " + MAX_TOKEN_CHARS + " characters");
        }
        int first = compactJwt.indexOf('.');
        int second = first < 0 ? -1 : compactJwt.indexOf('.', first + 1);
        if (second < 0 || compactJwt.indexOf('.', second + 1) >= 0) {
            throw new InvalidTokenException("token is not a compact JWS: expected header.payload.signature");
        }
        JsonNode header = parseObject(decode(compactJwt.substring(0, first), "header"), "header");
        String alg = algorithm(header);
        byte[] signature = decode(compactJwt.substring(second + 1), "signature");
        byte[] signingInput = compactJwt.substring(0, second).getBytes(StandardCharsets.US_ASCII);
        verifySignature(alg, keyId(header), signingInput, signature);
        JsonNode payload = parseObject(decode(compactJwt.substring(first + 1, second), "payload"), "payload");
        return claims(payload);
    }

    private static String algorithm(JsonNode header) throws InvalidTokenException {
        JsonNode alg = header.get("alg");
        if (alg == null || !alg.isTextual()) {
            throw new InvalidTokenException("token header missing alg");
        }
        if (header.has("crit")) {
            throw new InvalidTokenException("token header has unsupported crit parameters");
        }
        return alg.textValue();
    }

    private static String keyId(JsonNode header) throws InvalidTokenException {
        JsonNode kid = header.get("kid");
        if (kid == null || kid.isNull()) {
            return null;
        }
        if (!kid.isTextual() || kid.textValue().length() > 256) {
            throw new InvalidTokenException("token header kid must be a string of at most 256 characters");
        }
        return kid.textValue();
    }

    /**
     * The key for an RS256/ES256 token: a token that names a key id ({@code kid}) is verified with that key of the key
     * set, if there is one; a token without one with the configured key, or the set's only key when none is configured.
     */
    private PublicKey publicKey(String kid, PublicKey configured, Class<? extends PublicKey> type, String alg)
            throws InvalidTokenException {
        if (keySet != null && (kid != null || configured == null)) {
            PublicKey found = keySet.find(kid);
            if (found == null) {
                throw new UnknownKeyException(kid);
            }
            if (!type.isInstance(found)) {
                throw new InvalidTokenException("token key " + kid + " is not a key for " + alg);
            }
            return found;
        }
        if (configured == null) {
            throw new InvalidTokenException("alg " + alg + " not accepted: no " + (alg.equals("RS256") ? "RSA" : "EC P-256")
                    + " public key configured");
        }
        return configured;
    }

    private void verifySignature(String alg, String kid, byte[] signingInput, byte[] signature)
            throws InvalidTokenException {
        switch (alg) {
            case "HS256" -> {
                if (hmacKey == null) {
                    throw new InvalidTokenException("alg HS256 not accepted: no HMAC secret configured");
                }
                requireSignature(signature);
                if (!MessageDigest.isEqual(hmac(signingInput), signature)) {
                    throw new InvalidTokenException("signature does not verify");
                }
            }
            case "RS256" -> {
                PublicKey key = publicKey(kid, rsaKey, RSAPublicKey.class, alg);
                requireSignature(signature);
                verifyWithPublicKey(RSA_VERIFIERS.get(), key, signingInput, signature);
            }
            case "ES256" -> {
                PublicKey key = publicKey(kid, ecKey, ECPublicKey.class, alg);
                if (signature.length != 64) {
                    throw new InvalidTokenException("ES256 signature must be 64 bytes (r||s), got " + signature.length);
                }
                verifyWithPublicKey(EC_VERIFIERS.get(), key, signingInput, signature);
            }
            case "none" -> throw new InvalidTokenException("alg none not accepted: tokens must be signed");
            default -> throw new InvalidTokenException(PRINTABLE_ALG.matcher(alg).matches()
                    ? "unsupported alg " + alg
                    : "unsupported alg");
        }
    }

    private static void requireSignature(byte[] signature) throws InvalidTokenException {
        if (signature.length == 0) {
            throw new InvalidTokenException("token signature is missing");
        }
    }

    private byte[] hmac(byte[] signingInput) {
        return macs.get().doFinal(signingInput);
    }

    private static Mac newMac(SecretKeySpec key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    private static Signature signature(String jcaAlgorithm) {
        try {
            return Signature.getInstance(jcaAlgorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(jcaAlgorithm + " unavailable", e);
        }
    }

    private static void verifyWithPublicKey(Signature verifier, PublicKey key, byte[] signingInput, byte[] signature)
            throws InvalidTokenException {
        boolean valid;
        try {
            verifier.initVerify(key); // also clears what a failed verification left behind
            verifier.update(signingInput);
            valid = verifier.verify(signature);
        } catch (SignatureException e) {
            valid = false;
        } catch (InvalidKeyException e) {
            throw new IllegalStateException("configured public key cannot verify " + verifier.getAlgorithm(), e);
        }
        if (!valid) {
            throw new InvalidTokenException("signature does not verify");
        }
    }

    private TokenClaims claims(JsonNode payload) throws InvalidTokenException {
        String subject = requiredString(payload, "sub");
        String tenantId = requiredString(payload, "tid");
        String scope = optionalString(payload, "scope");
        if (issuer != null && !issuer.equals(optionalString(payload, "iss"))) {
            throw new InvalidTokenException("token issuer (iss) is not the accepted one");
        }
        if (audience != null && !namesAudience(payload.get("aud"))) {
            throw new InvalidTokenException("token audience (aud) does not name this gateway");
        }
        Long expiresAt = optionalNumericDate(payload, "exp", false);
        Long notBefore = optionalNumericDate(payload, "nbf", true);
        optionalNumericDate(payload, "iat", false);
        long now = clock.instant().getEpochSecond();
        if (expiresAt != null && now > saturatedAdd(expiresAt, leewaySeconds)) {
            throw new InvalidTokenException("token expired");
        }
        if (notBefore != null && now < saturatedAdd(notBefore, -leewaySeconds)) {
            throw new InvalidTokenException("token not yet valid");
        }
        return new TokenClaims(subject, tenantId, scope, expiresAt);
    }

    /** {@code aud} is one string or an array of strings (RFC 7519, 4.1.3); either way it must contain the audience. */
    private boolean namesAudience(JsonNode aud) {
        if (aud == null) {
            return false;
        }
        if (aud.isTextual()) {
            return audience.equals(aud.textValue());
        }
        if (aud.isArray()) {
            for (JsonNode a : aud) {
                if (a.isTextual() && audience.equals(a.textValue())) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String requiredString(JsonNode payload, String name) throws InvalidTokenException {
        JsonNode node = payload.get(name);
        if (node == null || node.isNull()) {
            throw new InvalidTokenException("token missing claim " + name);
        }
        if (!node.isTextual() || node.textValue().isEmpty()) {
            throw new InvalidTokenException("token claim " + name + " must be a non-empty string");
        }
        return node.textValue();
    }

    private static String optionalString(JsonNode payload, String name) throws InvalidTokenException {
        JsonNode node = payload.get(name);
        if (node == null) {
            return null;
        }
        if (!node.isTextual()) {
            throw new InvalidTokenException("token claim " + name + " must be a string");
        }
        return node.textValue();
    }

    /**
     * The last second of year 9999: a date claim beyond it (or before 1970) is refused, so no later arithmetic on it
     * (milliseconds, leeway) can overflow, over WebSocket and REST alike.
     */
    static final long MAX_NUMERIC_DATE = 253_402_300_799L;

    private static Long optionalNumericDate(JsonNode payload, String name, boolean roundUp)
            throws InvalidTokenException {
        JsonNode node = payload.get(name);
        if (node == null) {
            return null;
        }
        if (!node.isNumber()) {
            throw new InvalidTokenException("token claim " + name + " must be a number of seconds since the epoch");
        }
        double value = node.isIntegralNumber() && node.canConvertToLong() ? node.longValue()
                : roundUp ? Math.ceil(node.doubleValue()) : Math.floor(node.doubleValue());
        if (!Double.isFinite(value) || value < 0 || value > MAX_NUMERIC_DATE) {
            throw new InvalidTokenException("token claim " + name + " is out of range (0 to year 9999)");
        }
        return (long) value;
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        if (((a ^ sum) & (b ^ sum)) < 0) {
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return sum;
    }

    private static byte[] decode(String part, String name) throws InvalidTokenException {
        if (!isBase64Url(part)) {
            throw new InvalidTokenException("token " + name + " is not unpadded base64url");
        }
        try {
            return Base64.getUrlDecoder().decode(part);
        } catch (IllegalArgumentException e) {
            throw new InvalidTokenException("token " + name + " is not unpadded base64url");
        }
    }

    private static boolean isBase64Url(String part) {
        for (int i = 0; i < part.length(); i++) {
            char c = part.charAt(i);
            if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                return false;
            }
        }
        return true;
    }

    private static JsonNode parseObject(byte[] json, String name) throws InvalidTokenException {
        JsonNode node;
        try {
            node = MAPPER.readTree(json);
        } catch (IOException e) {
            throw new InvalidTokenException("token " + name + " is not valid JSON");
        }
        if (node == null || !node.isObject()) {
            throw new InvalidTokenException("token " + name + " is not a JSON object");
        }
        return node;
    }

    private static boolean isP256(ECParameterSpec params) {
        return params != null
                && params.getCurve().equals(P256.getCurve())
                && params.getGenerator().equals(P256.getGenerator())
                && params.getOrder().equals(P256.getOrder())
                && params.getCofactor() == P256.getCofactor();
    }

    private static ECParameterSpec p256() {
        try {
            AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
            parameters.init(new ECGenParameterSpec("secp256r1"));
            return parameters.getParameterSpec(ECParameterSpec.class);
        } catch (GeneralSecurityException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}

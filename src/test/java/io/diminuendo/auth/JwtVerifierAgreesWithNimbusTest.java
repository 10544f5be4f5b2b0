package io.diminuendo.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The hand-written {@link JwtVerifier} and Nimbus JOSE+JWT ({@link NimbusJwtVerifier}), configured alike, decide the
 * same for the token cases of {@link JwtVerifierTest}: both accept the valid tokens, with the same claims, and both
 * refuse the bad ones. They differ in two places, each pinned in its own test below: Nimbus skips stray characters in
 * the signature part, and at the exact edge of the leeway Nimbus refuses where the hand-written verifier accepts.
 */
class JwtVerifierAgreesWithNimbusTest {

    private static final long NOW = 1_700_000_000L;
    private static final long LEEWAY = 30;
    private static final Clock CLOCK = Clock.fixed(Instant.ofEpochSecond(NOW), ZoneOffset.UTC);
    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final String ISSUER = "https://idp.test";
    private static final String AUDIENCE = "gw";

    private static KeyPair rsa;
    private static KeyPair ec;
    private static KeyPair otherEc;

    /** A hand-written and a Nimbus verifier with the same keys, issuer, audience, leeway and clock. */
    private record Pair(String name, JwtVerifier handWritten, NimbusJwtVerifier nimbus) {
    }

    private record Case(String name, Pair verifiers, String token, boolean accept) {
    }

    @BeforeAll
    static void generateKeys() throws Exception {
        rsa = TestTokens.rsaKeyPair();
        ec = TestTokens.ecKeyPair();
        otherEc = TestTokens.ecKeyPair();
    }

    @Test
    void bothAcceptAndRefuseTheSameTokens() throws Exception {
        Pair hmac = pair("HS256 secret", SECRET, null, null, null);
        Pair rsaOnly = pair("RSA key", null, rsa.getPublic(), null, null);
        Pair ecOnly = pair("EC key", null, ec.getPublic(), null, null);
        Pair idp = pair("RSA key, issuer and audience", null, rsa.getPublic(), ISSUER, AUDIENCE);

        String hs = TestTokens.hs256(SECRET, claims());
        String rs = TestTokens.rs256(rsa.getPrivate(), claims());
        String es = TestTokens.es256(ec.getPrivate(), claims());
        Map<String, Object> escalated = claims();
        escalated.put("tid", "tenant-2");
        String forgedPayload = part(TestTokens.hs256(SECRET, escalated), 1);
        String noneHeader = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}");

        List<Case> cases = new ArrayList<>();
        cases.add(new Case("valid HS256", hmac, hs, true));
        cases.add(new Case("valid RS256", rsaOnly, rs, true));
        cases.add(new Case("valid ES256", ecOnly, es, true));
        cases.add(new Case("HS256 without scope or exp", hmac, TestTokens.hs256(SECRET, Map.of("sub", "u", "tid", "t")),
                true));
        cases.add(new Case("HS256 with a wrong secret", hmac,
                TestTokens.hs256("another-secret-another-secret-xx".getBytes(StandardCharsets.US_ASCII), claims()),
                false));
        cases.add(new Case("HS256 tampered payload", hmac, withPart(hs, 1, forgedPayload), false));
        cases.add(new Case("RS256 tampered payload", rsaOnly, withPart(rs, 1, forgedPayload), false));
        cases.add(new Case("ES256 tampered payload", ecOnly, withPart(es, 1, forgedPayload), false));
        cases.add(new Case("ES256 signed by another key", ecOnly, TestTokens.es256(otherEc.getPrivate(), claims()),
                false));
        cases.add(new Case("ES256 with a DER signature", ecOnly, derEs256(es), false));
        cases.add(new Case("alg none, empty signature", hmac, noneHeader + "." + part(hs, 1) + ".", false));
        cases.add(new Case("alg none with a signature", hmac, noneHeader + "." + part(hs, 1) + ".c2ln", false));
        cases.add(new Case("alg confusion: HS256 keyed with the RSA public key", rsaOnly,
                TestTokens.hs256(rsa.getPublic().getEncoded(), claims()), false));
        cases.add(new Case("alg confusion: HS256 keyed with the RSA public key PEM", rsaOnly,
                TestTokens.hs256(TestTokens.pem(rsa.getPublic()).getBytes(StandardCharsets.US_ASCII), claims()),
                false));
        cases.add(new Case("RS256 when only a secret is configured", hmac, rs, false));
        cases.add(new Case("ES256 when only an RSA key is configured", rsaOnly, es, false));
        cases.add(new Case("RS256 when only an EC key is configured", ecOnly, rs, false));
        cases.add(new Case("unsupported alg RS512", rsaOnly, b64("{\"alg\":\"RS512\"}") + rs.substring(rs.indexOf('.')),
                false));
        cases.add(new Case("expired beyond the leeway", hmac, hs256(c -> c.put("exp", NOW - LEEWAY - 1)), false));
        cases.add(new Case("expired within the leeway", hmac, hs256(c -> c.put("exp", NOW - LEEWAY + 1)), true));
        cases.add(new Case("not yet valid beyond the leeway", hmac, hs256(c -> c.put("nbf", NOW + LEEWAY + 1)), false));
        cases.add(new Case("not yet valid within the leeway", hmac, hs256(c -> c.put("nbf", NOW + LEEWAY - 1)), true));
        cases.add(new Case("issuer and audience as configured", idp, rs256(c -> {
            c.put("iss", ISSUER);
            c.put("aud", AUDIENCE);
        }), true));
        cases.add(new Case("audience list naming this gateway", idp, rs256(c -> {
            c.put("iss", ISSUER);
            c.put("aud", List.of("other", AUDIENCE));
        }), true));
        cases.add(new Case("wrong issuer", idp, rs256(c -> {
            c.put("iss", "https://evil.test");
            c.put("aud", AUDIENCE);
        }), false));
        cases.add(new Case("no issuer", idp, rs256(c -> c.put("aud", AUDIENCE)), false));
        cases.add(new Case("wrong audience", idp, rs256(c -> {
            c.put("iss", ISSUER);
            c.put("aud", "other");
        }), false));
        cases.add(new Case("no audience", idp, rs256(c -> c.put("iss", ISSUER)), false));
        cases.add(new Case("no sub", hmac, hs256(c -> c.remove("sub")), false));
        cases.add(new Case("no tid", hmac, hs256(c -> c.remove("tid")), false));
        cases.add(new Case("empty sub", hmac, hs256(c -> c.put("sub", "")), false));
        cases.add(new Case("numeric tid", hmac, hs256(c -> c.put("tid", 42)), false));
        cases.add(new Case("exp as text", hmac, hs256(c -> c.put("exp", "tomorrow")), false));
        cases.add(new Case("scope as a list", hmac, hs256(c -> c.put("scope", List.of("a", "b"))), false));
        cases.add(new Case("empty token", hmac, "", false));
        cases.add(new Case("garbage", hmac, "garbage", false));
        cases.add(new Case("truncated: no signature part", hmac, hs.substring(0, hs.lastIndexOf('.')), false));
        cases.add(new Case("truncated inside the signature", hmac, hs.substring(0, hs.length() - 4), false));
        cases.add(new Case("truncated inside the payload", hmac, hs.substring(0, hs.indexOf('.') + 10), false));
        cases.add(new Case("extra segment", hmac, hs + ".extra", false));
        cases.add(new Case("five segments (JWE shape)", hmac, hs + ".e30.c2ln", false));
        cases.add(new Case("header not base64url", hmac, "e30!." + part(hs, 1) + "." + part(hs, 2), false));
        cases.add(new Case("header base64 of no JSON", hmac, "YWJj." + part(hs, 1) + "." + part(hs, 2), false));
        cases.add(new Case("payload with a non-base64url character", hmac, withPart(hs, 1, part(hs, 1) + "*"), false));
        cases.add(new Case("header a JSON array", hmac,
                b64("[\"HS256\"]") + "." + part(hs, 1) + "." + part(hs, 2), false));
        cases.add(new Case("header without alg", hmac,
                b64("{\"typ\":\"JWT\"}") + "." + part(hs, 1) + "." + part(hs, 2), false));
        cases.add(new Case("payload a JSON array", hmac, hs256Raw("{\"alg\":\"HS256\"}", "[1,2]"), false));
        cases.add(new Case("header padded with =", hmac, withPart(hs, 0, part(hs, 0) + "="), false));
        cases.add(new Case("duplicate alg in the header", hmac,
                hs256Raw("{\"alg\":\"HS256\",\"alg\":\"none\"}", "{\"sub\":\"u\",\"tid\":\"t\"}"), false));
        cases.add(new Case("duplicate sub in the payload", hmac,
                hs256Raw("{\"alg\":\"HS256\"}", "{\"sub\":\"u\",\"tid\":\"t\",\"sub\":\"v\"}"), false));
        cases.add(new Case("trailing JSON after the payload", hmac,
                hs256Raw("{\"alg\":\"HS256\"}", "{\"sub\":\"u\",\"tid\":\"t\"} {}"), false));
        cases.add(new Case("unknown crit header", hmac,
                hs256Raw("{\"alg\":\"HS256\",\"crit\":[\"x\"],\"x\":1}", "{\"sub\":\"u\",\"tid\":\"t\"}"), false));
        cases.add(new Case("sub null", hmac, hs256(c -> c.put("sub", null)), false));
        cases.add(new Case("iat as text", hmac, hs256(c -> c.put("iat", "yesterday")), false));
        cases.add(new Case("exp far beyond year 9999", hmac, hs256(c -> c.put("exp", 1e16)), false));
        cases.add(new Case("exp before 1970", hmac, hs256(c -> c.put("exp", -1L)), false));
        cases.add(new Case("fractional exp", hmac, hs256(c -> c.put("exp", NOW + 0.5)), true));
        cases.add(new Case("longer than 16 KiB", hmac, "x".repeat(JwtVerifier.MAX_TOKEN_CHARS + 1), false));

        List<String> disagreements = new ArrayList<>();
        for (Case c : cases) {
            String hand = decision(c.verifiers().handWritten()::verify, c.token());
            String nimbus = decision(c.verifiers().nimbus()::verify, c.token());
            String expected = c.accept() ? "accepted" : "refused";
            if (!hand.startsWith(expected) || !nimbus.startsWith(expected)
                    || c.accept() && !hand.equals(nimbus)) {
                disagreements.add(c.name() + " (" + c.verifiers().name() + "): expected " + expected
                        + "; hand-written " + hand + "; Nimbus " + nimbus);
            }
        }
        assertThat(disagreements).as("cases decided differently").isEmpty();
        assertThat(cases).hasSizeGreaterThan(50);
    }

    /**
     * Nimbus skips characters that are not base64url when it decodes the signature, so a valid token with a stray
     * {@code *}, {@code !} or {@code =} in its signature part still verifies there. No signature is forged this way,
     * but one token gets many spellings. The hand-written verifier refuses anything but unpadded base64url.
     */
    @Test
    void strayCharactersInTheSignatureAreRefusedByTheHandWrittenVerifierAndSkippedByNimbus() throws Exception {
        Pair hmac = pair("HS256 secret", SECRET, null, null, null);
        String hs = TestTokens.hs256(SECRET, claims());

        String star = hs.substring(0, hs.length() - 3) + "*" + hs.substring(hs.length() - 3);

        for (String token : List.of(hs + "=", hs + "!", star)) {
            assertThat(decision(hmac.handWritten()::verify, token))
                    .startsWith("refused (token signature is not unpadded base64url");
            assertThat(decision(hmac.nimbus()::verify, token)).startsWith("accepted");
        }
    }

    /**
     * At the very edge of the leeway the two differ by one second: with {@code exp} exactly {@code now - leeway}, or
     * {@code nbf} exactly {@code now + leeway}, the hand-written verifier accepts (RFC 7519 allows use at {@code nbf})
     * and Nimbus' {@code DefaultJWTClaimsVerifier} refuses. One second inside, both accept; one outside, both refuse.
     */
    @Test
    void atTheExactEdgeOfTheLeewayTheHandWrittenVerifierAcceptsAndNimbusRefuses() throws Exception {
        Pair hmac = pair("HS256 secret", SECRET, null, null, null);

        for (String token : List.of(hs256(c -> c.put("exp", NOW - LEEWAY)), hs256(c -> c.put("nbf", NOW + LEEWAY)))) {
            assertThat(decision(hmac.handWritten()::verify, token)).startsWith("accepted");
            assertThat(decision(hmac.nimbus()::verify, token)).startsWith("refused");
        }
    }

    private interface Verify {
        TokenClaims verify(String token) throws InvalidTokenException;
    }

    /** "accepted " and the claims, or "refused (reason)". */
    private static String decision(Verify verify, String token) {
        try {
            return "accepted " + verify.verify(token);
        } catch (InvalidTokenException e) {
            return "refused (" + e.getMessage() + ")";
        }
    }

    private static Pair pair(String name, byte[] secret, PublicKey key, String issuer, String audience)
            throws Exception {
        return new Pair(name, new JwtVerifier(secret, key, null, issuer, audience, LEEWAY, CLOCK),
                new NimbusJwtVerifier(secret, key, issuer, audience, LEEWAY, CLOCK));
    }

    private static Map<String, Object> claims() {
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("sub", "user-1");
        claims.put("tid", "tenant-1");
        claims.put("scope", "sessions:read sessions:write");
        claims.put("iat", NOW - 60);
        claims.put("exp", NOW + 300);
        return claims;
    }

    private static String hs256(Consumer<Map<String, Object>> change) {
        Map<String, Object> claims = claims();
        change.accept(claims);
        return TestTokens.hs256(SECRET, claims);
    }

    private static String rs256(Consumer<Map<String, Object>> change) {
        Map<String, Object> claims = claims();
        change.accept(claims);
        return TestTokens.rs256(rsa.getPrivate(), claims);
    }

    private static String derEs256(String token) throws GeneralSecurityException {
        String signingInput = token.substring(0, token.lastIndexOf('.'));
        Signature der = Signature.getInstance("SHA256withECDSA");
        der.initSign(ec.getPrivate());
        der.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        return signingInput + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(der.sign());
    }

    private static String hs256Raw(String headerJson, String payloadJson) throws GeneralSecurityException {
        String signingInput = b64(headerJson) + "." + b64(payloadJson);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET, "HmacSHA256"));
        byte[] signature = mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII));
        return signingInput + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(signature);
    }

    private static String b64(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    private static String part(String token, int index) {
        return token.split("\\.", -1)[index];
    }

    private static String withPart(String token, int index, String replacement) {
        String[] parts = token.split("\\.", -1);
        parts[index] = replacement;
        return String.join(".", parts);
    }
}

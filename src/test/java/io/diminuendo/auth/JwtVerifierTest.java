package io.diminuendo.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class JwtVerifierTest {

    private static final long NOW = 1_700_000_000L;
    private static final long LEEWAY = 30;
    private static final Clock CLOCK = Clock.fixed(Instant.ofEpochSecond(NOW), ZoneOffset.UTC);
    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private static KeyPair rsa;
    private static KeyPair ec;

    @BeforeAll
    static void generateKeys() throws Exception {
        rsa = TestTokens.rsaKeyPair();
        ec = TestTokens.ecKeyPair();
    }

    @Test
    void acceptsHs256AndReadsClaims() throws Exception {
        TokenClaims claims = hmacVerifier().verify(TestTokens.hs256(SECRET, claims()));

        assertThat(claims).isEqualTo(new TokenClaims("user-1", "tenant-1", "sessions:read sessions:write", NOW + 300));
    }

    @Test
    void acceptsRs256() throws Exception {
        TokenClaims claims = verifier(null, rsa.getPublic()).verify(TestTokens.rs256(rsa.getPrivate(), claims()));

        assertThat(claims.subject()).isEqualTo("user-1");
        assertThat(claims.tenantId()).isEqualTo("tenant-1");
    }

    @Test
    void acceptsEs256() throws Exception {
        TokenClaims claims = verifier(null, ec.getPublic()).verify(TestTokens.es256(ec.getPrivate(), claims()));

        assertThat(claims.subject()).isEqualTo("user-1");
        assertThat(claims.tenantId()).isEqualTo("tenant-1");
    }

    @Test
    void es256SignatureIsJose64Bytes() {
        String token = TestTokens.es256(ec.getPrivate(), claims());

        assertThat(Base64.getUrlDecoder().decode(token.substring(token.lastIndexOf('.') + 1))).hasSize(64);
    }

    @Test
    void scopeAndExpAreOptional() throws Exception {
        TokenClaims claims = hmacVerifier().verify(TestTokens.hs256(SECRET, Map.of("sub", "u", "tid", "t")));

        assertThat(claims.scope()).isNull();
        assertThat(claims.expiresAtEpochSeconds()).isNull();
    }

    @Test
    void acceptsBothAlgorithmsWhenBothKeysConfigured() throws Exception {
        JwtVerifier verifier = verifier(SECRET, rsa.getPublic());

        assertThat(verifier.verify(TestTokens.hs256(SECRET, claims())).subject()).isEqualTo("user-1");
        assertThat(verifier.verify(TestTokens.rs256(rsa.getPrivate(), claims())).subject()).isEqualTo("user-1");
    }

    @Test
    void rejectsWrongSecret() {
        String token = TestTokens.hs256("another-secret-another-secret-xx".getBytes(StandardCharsets.US_ASCII), claims());

        assertRejected(hmacVerifier(), token, "signature does not verify");
    }

    @Test
    void rejectsTamperedPayload() {
        Map<String, Object> escalated = claims();
        escalated.put("tid", "tenant-2");
        String forgedPayload = payloadOf(TestTokens.hs256(SECRET, escalated));

        assertRejected(hmacVerifier(), withPayload(TestTokens.hs256(SECRET, claims()), forgedPayload),
                "signature does not verify");
        assertRejected(verifier(null, rsa.getPublic()),
                withPayload(TestTokens.rs256(rsa.getPrivate(), claims()), forgedPayload), "signature does not verify");
        assertRejected(verifier(null, ec.getPublic()),
                withPayload(TestTokens.es256(ec.getPrivate(), claims()), forgedPayload), "signature does not verify");
    }

    @Test
    void rejectsTokenSignedByAnotherKey() throws Exception {
        String token = TestTokens.es256(TestTokens.ecKeyPair().getPrivate(), claims());

        assertRejected(verifier(null, ec.getPublic()), token, "signature does not verify");
    }

    @Test
    void rejectsAlgNone() {
        String payload = payloadOf(TestTokens.hs256(SECRET, claims()));
        String unsigned = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + payload + ".";

        assertRejected(hmacVerifier(), unsigned, "alg none not accepted");
        assertRejected(hmacVerifier(), unsigned + "c2ln", "alg none not accepted");
    }

    @Test
    void rejectsHs256WhenOnlyPublicKeyConfigured() {
        String confused = TestTokens.hs256(rsa.getPublic().getEncoded(), claims());
        String confusedWithPem = TestTokens.hs256(
                TestTokens.pem(rsa.getPublic()).getBytes(StandardCharsets.US_ASCII), claims());
        JwtVerifier verifier = verifier(null, rsa.getPublic());

        assertRejected(verifier, confused, "alg HS256 not accepted");
        assertRejected(verifier, confusedWithPem, "alg HS256 not accepted");
    }

    @Test
    void rejectsRs256WhenOnlySecretConfigured() {
        assertRejected(hmacVerifier(), TestTokens.rs256(rsa.getPrivate(), claims()), "alg RS256 not accepted");
    }

    @Test
    void rejectsAlgorithmNotMatchingKeyType() {
        assertRejected(verifier(null, rsa.getPublic()), TestTokens.es256(ec.getPrivate(), claims()),
                "alg ES256 not accepted");
        assertRejected(verifier(null, ec.getPublic()), TestTokens.rs256(rsa.getPrivate(), claims()),
                "alg RS256 not accepted");
    }

    @Test
    void rejectsUnsupportedAlg() {
        String token = TestTokens.rs256(rsa.getPrivate(), claims());
        String rs512 = b64("{\"alg\":\"RS512\"}") + token.substring(token.indexOf('.'));

        assertRejected(verifier(null, rsa.getPublic()), rs512, "unsupported alg RS512");
    }

    @Test
    void rejectsDerEncodedEs256Signature() throws Exception {
        String token = TestTokens.es256(ec.getPrivate(), claims());
        String signingInput = token.substring(0, token.lastIndexOf('.'));
        Signature der = Signature.getInstance("SHA256withECDSA");
        der.initSign(ec.getPrivate());
        der.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        String derToken = signingInput + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(der.sign());

        assertRejected(verifier(null, ec.getPublic()), derToken, "ES256 signature must be 64 bytes");
    }

    @Test
    void rejectsExpiredBeyondLeeway() {
        Map<String, Object> claims = claims();
        claims.put("exp", NOW - LEEWAY - 1);

        assertRejected(hmacVerifier(), TestTokens.hs256(SECRET, claims), "token expired");
    }

    @Test
    void acceptsExpiredWithinLeeway() throws Exception {
        Map<String, Object> claims = claims();
        claims.put("exp", NOW - LEEWAY);

        assertThat(hmacVerifier().verify(TestTokens.hs256(SECRET, claims)).expiresAtEpochSeconds())
                .isEqualTo(NOW - LEEWAY);
    }

    @Test
    void appliesNotBefore() throws Exception {
        Map<String, Object> early = claims();
        early.put("nbf", NOW + LEEWAY + 1);
        Map<String, Object> withinLeeway = claims();
        withinLeeway.put("nbf", NOW + LEEWAY);

        assertRejected(hmacVerifier(), TestTokens.hs256(SECRET, early), "token not yet valid");
        assertThat(hmacVerifier().verify(TestTokens.hs256(SECRET, withinLeeway)).subject()).isEqualTo("user-1");
    }

    @Test
    void rejectsMissingOrEmptyRequiredClaims() {
        Map<String, Object> noSub = claims();
        noSub.remove("sub");
        Map<String, Object> noTid = claims();
        noTid.remove("tid");
        Map<String, Object> emptySub = claims();
        emptySub.put("sub", "");
        Map<String, Object> numericTid = claims();
        numericTid.put("tid", 42);

        assertRejected(hmacVerifier(), TestTokens.hs256(SECRET, noSub), "token missing claim sub");
        assertRejected(hmacVerifier(), TestTokens.hs256(SECRET, noTid), "token missing claim tid");
        assertRejected(hmacVerifier(), TestTokens.hs256(SECRET, emptySub), "claim sub must be a non-empty string");
        assertRejected(hmacVerifier(), TestTokens.hs256(SECRET, numericTid), "claim tid must be a non-empty string");
    }

    @Test
    void rejectsWronglyTypedOptionalClaims() {
        Map<String, Object> textExp = claims();
        textExp.put("exp", "tomorrow");
        Map<String, Object> listScope = claims();
        listScope.put("scope", List.of("a", "b"));

        assertRejected(hmacVerifier(), TestTokens.hs256(SECRET, textExp), "claim exp must be a number");
        assertRejected(hmacVerifier(), TestTokens.hs256(SECRET, listScope), "claim scope must be a string");
    }

    @Test
    void rejectsMalformedTokens() {
        String valid = TestTokens.hs256(SECRET, claims());
        String signature = valid.substring(valid.lastIndexOf('.') + 1);
        JwtVerifier verifier = hmacVerifier();

        assertRejected(verifier, null, "token is empty");
        assertRejected(verifier, "", "token is empty");
        assertRejected(verifier, "garbage", "not a compact JWS");
        assertRejected(verifier, valid.substring(0, valid.lastIndexOf('.')), "not a compact JWS");
        assertRejected(verifier, valid + ".extra", "not a compact JWS");
        assertRejected(verifier, "YWJj.e30.c2ln", "token header is not valid JSON");
        assertRejected(verifier, "a.e30.c2ln", "token header is not unpadded base64url");
        assertRejected(verifier, "e30!.e30.c2ln", "token header is not unpadded base64url");
        assertRejected(verifier, b64("{\"alg\":\"HS256\"}") + "=.e30.c2ln", "not unpadded base64url");
        assertRejected(verifier, b64("{\"alg\":\"HS256\"}") + ".e30.c2l*", "token signature is not unpadded base64url");
        assertRejected(verifier, "x".repeat(JwtVerifier.MAX_TOKEN_CHARS + 1), "token is longer than");
        assertRejected(verifier, b64("[\"HS256\"]") + "." + payloadOf(valid) + "." + signature,
                "token header is not a JSON object");
        assertRejected(verifier, b64("{\"typ\":\"JWT\"}") + "." + payloadOf(valid) + "." + signature,
                "token header missing alg");
        assertRejected(verifier, b64("{\"alg\":\"HS256\",\"alg\":\"none\"}") + "." + payloadOf(valid) + "." + signature,
                "token header is not valid JSON");
    }

    @Test
    void rejectsPayloadThatIsNotAJsonObject() {
        String header = b64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
        String arrayPayload = hs256Raw(header, b64("[1,2]"));
        String trailingPayload = hs256Raw(header, b64("{\"sub\":\"u\",\"tid\":\"t\"} {}"));

        assertRejected(hmacVerifier(), arrayPayload, "token payload is not a JSON object");
        assertRejected(hmacVerifier(), trailingPayload, "token payload is not valid JSON");
    }

    @Test
    void messagesNeverContainTheToken() {
        String expired = TestTokens.hs256(SECRET, Map.of("sub", "u", "tid", "t", "exp", NOW - 3600));

        assertThatThrownBy(() -> hmacVerifier().verify(expired))
                .isInstanceOf(InvalidTokenException.class)
                .message()
                .doesNotContain(expired)
                .doesNotContain(payloadOf(expired));
    }

    @Test
    void dateClaimsBeyondYear9999OrBefore1970AreRefusedRatherThanOverflowingLater() throws Exception {
        for (String claim : List.of("exp", "nbf", "iat")) {
            for (Object value : List.of(10_000_000_000_000_000L, 1e16, -1L, JwtVerifier.MAX_NUMERIC_DATE + 1)) {
                assertRejected(hmacVerifier(), TestTokens.hs256(SECRET, Map.of("sub", "u", "tid", "t", claim, value)),
                        "token claim " + claim + " is out of range");
            }
        }
        TokenClaims far = hmacVerifier().verify(TestTokens.hs256(SECRET,
                Map.of("sub", "u", "tid", "t", "exp", JwtVerifier.MAX_NUMERIC_DATE, "iat", NOW)));
        assertThat(far.expiresAtEpochSeconds() * 1000).as("no overflow in milliseconds").isPositive();
    }

    @Test
    void verifiesConcurrently() {
        JwtVerifier verifier = verifier(SECRET, ec.getPublic());
        List<String> tokens = IntStream.range(0, 200)
                .mapToObj(i -> i % 2 == 0
                        ? TestTokens.hs256(SECRET, Map.of("sub", "u" + i, "tid", "t"))
                        : TestTokens.es256(ec.getPrivate(), Map.of("sub", "u" + i, "tid", "t")))
                .toList();

        List<String> subjects = tokens.parallelStream().map(token -> {
            try {
                return verifier.verify(token).subject();
            } catch (InvalidTokenException e) {
                throw new AssertionError(e);
            }
        }).toList();

        assertThat(subjects).containsExactlyElementsOf(IntStream.range(0, 200).mapToObj(i -> "u" + i).toList());
    }

    @Test
    void looksLikeJwtDistinguishesJwtsFromApiKeys() {
        assertThat(JwtVerifier.looksLikeJwt(TestTokens.hs256(SECRET, claims()))).isTrue();
        assertThat(JwtVerifier.looksLikeJwt("a.b.c")).isTrue();
        assertThat(JwtVerifier.looksLikeJwt("dmn_live_4f9a2c")).isFalse();
        assertThat(JwtVerifier.looksLikeJwt("a.b")).isFalse();
        assertThat(JwtVerifier.looksLikeJwt("a.b.c.d")).isFalse();
        assertThat(JwtVerifier.looksLikeJwt(".b.c")).isFalse();
        assertThat(JwtVerifier.looksLikeJwt("a..c")).isFalse();
        assertThat(JwtVerifier.looksLikeJwt("a.b.")).isFalse();
        assertThat(JwtVerifier.looksLikeJwt(null)).isFalse();
    }

    @Test
    void rejectsUnusableConfiguration() throws Exception {
        KeyPairGenerator p384 = KeyPairGenerator.getInstance("EC");
        p384.initialize(new ECGenParameterSpec("secp384r1"));
        PublicKey p384Key = p384.generateKeyPair().getPublic();

        assertThatThrownBy(() -> verifier(null, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> verifier(new byte[0], null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> verifier(null, p384Key)).hasMessageContaining("P-256");
        assertThatThrownBy(() -> new JwtVerifier(SECRET, null, -1, CLOCK))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void pemRoundTripsRsaKey() throws Exception {
        PublicKey parsed = PublicKeys.fromPem(TestTokens.pem(rsa.getPublic()));

        assertThat(parsed.getAlgorithm()).isEqualTo("RSA");
        assertThat(parsed.getEncoded()).isEqualTo(rsa.getPublic().getEncoded());
        assertThat(verifier(null, parsed).verify(TestTokens.rs256(rsa.getPrivate(), claims())).subject())
                .isEqualTo("user-1");
    }

    @Test
    void pemRoundTripsEcKey() throws Exception {
        PublicKey parsed = PublicKeys.fromPem(TestTokens.pem(ec.getPublic()));

        assertThat(parsed.getAlgorithm()).isEqualTo("EC");
        assertThat(parsed.getEncoded()).isEqualTo(ec.getPublic().getEncoded());
        assertThat(verifier(null, parsed).verify(TestTokens.es256(ec.getPrivate(), claims())).subject())
                .isEqualTo("user-1");
    }

    @Test
    void pemRejectsWhatIsNotAPublicKey() {
        String rsaPem = TestTokens.pem(rsa.getPublic());

        assertThatThrownBy(() -> PublicKeys.fromPem(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PublicKeys.fromPem("not a pem")).hasMessageContaining("BEGIN PUBLIC KEY");
        assertThatThrownBy(() -> PublicKeys.fromPem(rsaPem.replace("PUBLIC KEY", "RSA PUBLIC KEY")))
                .hasMessageContaining("PKCS#1");
        assertThatThrownBy(() -> PublicKeys.fromPem(rsaPem.replace("-----END PUBLIC KEY-----", "")))
                .hasMessageContaining("END PUBLIC KEY");
        assertThatThrownBy(() -> PublicKeys.fromPem("-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----"))
                .hasMessageContaining("base64");
        assertThatThrownBy(() -> PublicKeys.fromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"))
                .hasMessageContaining("neither an RSA nor an EC");
    }

    private static JwtVerifier hmacVerifier() {
        return verifier(SECRET, null);
    }

    private static JwtVerifier verifier(byte[] secret, PublicKey publicKey) {
        return new JwtVerifier(secret, publicKey, LEEWAY, CLOCK);
    }

    private static Map<String, Object> claims() {
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("sub", "user-1");
        claims.put("tid", "tenant-1");
        claims.put("scope", "sessions:read sessions:write");
        claims.put("exp", NOW + 300);
        return claims;
    }

    private static void assertRejected(JwtVerifier verifier, String token, String messagePart) {
        assertThatThrownBy(() -> verifier.verify(token))
                .isInstanceOf(InvalidTokenException.class)
                .hasMessageContaining(messagePart);
    }

    private static String b64(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    private static String payloadOf(String token) {
        return token.split("\\.")[1];
    }

    private static String withPayload(String token, String payload) {
        String[] parts = token.split("\\.");
        return parts[0] + "." + payload + "." + parts[2];
    }

    private static String hs256Raw(String header, String payload) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(SECRET, "HmacSHA256"));
            byte[] signature = mac.doFinal((header + "." + payload).getBytes(StandardCharsets.US_ASCII));
            return header + "." + payload + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(signature);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}

package io.diminuendo.auth;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Mints signed JWTs and PEMs for tests.
 */
public final class TestTokens {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

    private TestTokens() {
    }

    /** Returns an HS256 token over {@code claims}. */
    /** A new 2048-bit RSA key pair, for RS256. */
    public static KeyPair rsaKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
    }

    /** A new P-256 key pair, for ES256. */
    public static KeyPair ecKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    public static String hs256(byte[] secret, Map<String, Object> claims) {
        String signingInput = signingInput("HS256", claims);
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return signingInput + "." + BASE64URL.encodeToString(mac.doFinal(ascii(signingInput)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Returns an RS256 token over {@code claims} signed with an RSA private key. */
    public static String rs256(PrivateKey key, Map<String, Object> claims) {
        return signed("RS256", "SHA256withRSA", key, claims);
    }

    /** Returns an ES256 token over {@code claims} signed with a P-256 private key; the signature is JOSE r||s. */
    public static String es256(PrivateKey key, Map<String, Object> claims) {
        return signed("ES256", "SHA256withECDSAinP1363Format", key, claims);
    }

    /** An RS256 token whose header names the key id {@code kid}, as identity providers issue them. */
    public static String rs256(PrivateKey key, String kid, Map<String, Object> claims) {
        return signed("RS256", "SHA256withRSA", key, kid, claims);
    }

    /** An ES256 token whose header names the key id {@code kid}. */
    public static String es256(PrivateKey key, String kid, Map<String, Object> claims) {
        return signed("ES256", "SHA256withECDSAinP1363Format", key, kid, claims);
    }

    /** An unsigned big-endian integer in unpadded base64url, as JWK fields ({@code n}, {@code e}, {@code x}, …) hold it. */
    public static String base64Url(BigInteger value) {
        byte[] bytes = value.toByteArray();
        int skip = bytes.length > 1 && bytes[0] == 0 ? 1 : 0;
        return BASE64URL.encodeToString(Arrays.copyOfRange(bytes, skip, bytes.length));
    }

    /** Returns {@code key} as a {@code -----BEGIN PUBLIC KEY-----} PEM. */
    public static String pem(PublicKey key) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(key.getEncoded());
        return "-----BEGIN PUBLIC KEY-----\n" + body + "\n-----END PUBLIC KEY-----\n";
    }

    private static String signed(String alg, String jcaAlgorithm, PrivateKey key, Map<String, Object> claims) {
        return signed(alg, jcaAlgorithm, key, null, claims);
    }

    private static String signed(String alg, String jcaAlgorithm, PrivateKey key, String kid, Map<String, Object> claims) {
        String signingInput = kid == null ? signingInput(alg, claims)
                : encodedJson(Map.of("alg", alg, "typ", "JWT", "kid", kid)) + "." + encodedJson(claims);
        try {
            Signature signature = Signature.getInstance(jcaAlgorithm);
            signature.initSign(key);
            signature.update(ascii(signingInput));
            return signingInput + "." + BASE64URL.encodeToString(signature.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String signingInput(String alg, Map<String, Object> claims) {
        return encodedJson(Map.of("alg", alg, "typ", "JWT")) + "." + encodedJson(claims);
    }

    private static String encodedJson(Map<String, Object> value) {
        try {
            return BASE64URL.encodeToString(MAPPER.writeValueAsBytes(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] ascii(String value) {
        return value.getBytes(StandardCharsets.US_ASCII);
    }
}

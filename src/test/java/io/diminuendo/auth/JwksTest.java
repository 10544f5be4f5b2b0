package io.diminuendo.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.util.Base64;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The JWK Set parser: the keys it yields verify the tokens their private halves sign. */
class JwksTest {
    private static String b64(BigInteger value) {
        byte[] bytes = value.toByteArray();
        int skip = bytes.length > 1 && bytes[0] == 0 ? 1 : 0;
        byte[] unsigned = new byte[bytes.length - skip];
        System.arraycopy(bytes, skip, unsigned, 0, unsigned.length);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(unsigned);
    }

    @Test
    void rsaKeysOfTheSetVerifyTokensByKeyId() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair a = g.generateKeyPair();
        KeyPair b = g.generateKeyPair();
        String doc = "{\"keys\":[" + jwk("a", (RSAPublicKey) a.getPublic()) + "," + jwk("b", (RSAPublicKey) b.getPublic())
                + "]}";
        var keys = Jwks.parse(doc.getBytes(StandardCharsets.UTF_8));
        assertThat(keys).containsOnlyKeys("a", "b");
        JwtVerifier verifier = new JwtVerifier(null, null, keys::get, null, null, 5, Clock.systemUTC());
        Map<String, Object> claims = Map.of("sub", "u", "tid", "t");
        assertThat(verifier.verify(TestTokens.rs256(b.getPrivate(), "b", claims)).subject()).isEqualTo("u");
        assertThat(verifier.verify(TestTokens.rs256(a.getPrivate(), "a", claims)).subject()).isEqualTo("u");
    }

    private static String jwk(String kid, RSAPublicKey k) {
        return "{\"kty\":\"RSA\",\"kid\":\"" + kid + "\",\"n\":\"" + b64(k.getModulus()) + "\",\"e\":\""
                + b64(k.getPublicExponent()) + "\"}";
    }
}

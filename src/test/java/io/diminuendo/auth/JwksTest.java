package io.diminuendo.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The JWK Set parser: the keys it yields verify the tokens their private halves sign. */
class JwksTest {

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
        return "{\"kty\":\"RSA\",\"kid\":\"" + kid + "\",\"n\":\"" + TestTokens.base64Url(k.getModulus()) + "\",\"e\":\""
                + TestTokens.base64Url(k.getPublicExponent()) + "\"}";
    }
}

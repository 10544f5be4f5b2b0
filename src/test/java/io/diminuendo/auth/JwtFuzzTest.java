package io.diminuendo.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The token parser and verifier under 120,000 hostile variations of valid tokens (characters flipped, inserted,
 * deleted, parts swapped or duplicated, random bytes): each is refused with an {@link InvalidTokenException} (never
 * another exception), or verified with exactly the original claims (a variation that decodes to the same bytes).
 * The seed is fixed, so a failure reproduces.
 */
class JwtFuzzTest {
    private static final byte[] SECRET = "fuzz-secret-0123456789-0123456789-abcdef".getBytes(StandardCharsets.UTF_8);
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/{}\\\":, \u00e9\u0000";

    @Test
    void variationsOfValidTokensAreRefusedCleanlyOrCarryTheOriginalClaims() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair rsa = g.generateKeyPair();
        JwtVerifier verifier = new JwtVerifier(SECRET, rsa.getPublic(), null, "https://idp.test", "gw", 5,
                Clock.systemUTC());
        Map<String, Object> claims = Map.of("sub", "u", "tid", "t", "iss", "https://idp.test", "aud", "gw",
                "exp", System.currentTimeMillis() / 1000 + 600, "scope", "sessions:read");
        String hs = TestTokens.hs256(SECRET, claims);
        String rs = TestTokens.rs256(rsa.getPrivate(), claims);
        TokenClaims original = verifier.verify(hs);
        assertThat(verifier.verify(rs)).isEqualTo(original);

        Random random = new Random(20261201);
        int accepted = 0;
        for (int i = 0; i < 120_000; i++) {
            String base = i % 10 == 0 ? rs : hs;
            String variant = mutate(base, random);
            try {
                TokenClaims c = verifier.verify(variant);
                assertThat(c).as("claims of an accepted variation %s", variant).isEqualTo(original);
                accepted++;
            } catch (InvalidTokenException expected) {
                assertThat(expected.getMessage()).as("reason for %s", variant).isNotBlank();
                if (variant.length() > 20) {
                    assertThat(expected.getMessage()).as("the reason never quotes the token").doesNotContain(variant);
                }
            }
        }
        assertThat(accepted).as("variations accepted (same bytes)").isLessThan(120_000 / 10);
    }

    private static String mutate(String token, Random random) {
        StringBuilder s = new StringBuilder(token);
        int edits = 1 + random.nextInt(3);
        for (int e = 0; e < edits && s.length() > 0; e++) {
            int at = random.nextInt(s.length());
            switch (random.nextInt(8)) {
                case 0 -> s.setCharAt(at, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                case 1 -> s.insert(at, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                case 2 -> s.deleteCharAt(at);
                case 3 -> s.setLength(at);
                case 4 -> {
                    String[] parts = s.toString().split("\\.", -1);
                    if (parts.length == 3) {
                        s.setLength(0);
                        s.append(parts[1]).append('.').append(parts[0]).append('.').append(parts[2]);
                    }
                }
                case 5 -> s.append('.').append(s, 0, Math.min(s.length(), 40));
                case 6 -> {
                    byte[] junk = new byte[1 + random.nextInt(64)];
                    random.nextBytes(junk);
                    s.insert(at, new String(junk, StandardCharsets.ISO_8859_1));
                }
                default -> s.setCharAt(at, (char) (s.charAt(at) ^ (1 << random.nextInt(7))));
            }
        }
        return s.toString();
    }
}

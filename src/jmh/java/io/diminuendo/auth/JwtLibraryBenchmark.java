package io.diminuendo.auth;

import java.security.KeyPair;
import java.time.Clock;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The same token verified two ways, in µs per token on one thread: by the gateway's {@link JwtVerifier#verify} and by
 * Nimbus JOSE+JWT doing the same checks ({@link NimbusJwtVerifier}: parse, signature, exp/nbf/iat, the claims the
 * gateway reads). Both are built once and reused for every token, as the gateway reuses its verifier. Tokens and
 * configuration are those of {@link JwtBenchmark}: HS256, RS256 (2048-bit key) or ES256 (P-256), claims
 * sub/tid/scope/iat/exp, 5 s leeway, no issuer or audience required.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class JwtLibraryBenchmark {
    @Param({"HS256", "RS256", "ES256"})
    public String alg;

    private JwtVerifier handWritten;
    private NimbusJwtVerifier nimbus;
    private String token;

    @Setup
    public void setUp() throws Exception {
        String claims = JwtBenchmark.gatewayClaims();
        switch (alg) {
            case "HS256" -> {
                handWritten = new JwtVerifier(JwtBenchmark.SECRET, null, 5, Clock.systemUTC());
                nimbus = new NimbusJwtVerifier(JwtBenchmark.SECRET, null, null, null, 5, Clock.systemUTC());
                token = JwtBenchmark.sign(alg, claims, JwtBenchmark::hmacSha256);
            }
            case "RS256", "ES256" -> {
                KeyPair pair = alg.equals("RS256") ? TestTokens.rsaKeyPair() : TestTokens.ecKeyPair();
                String jca = alg.equals("RS256") ? "SHA256withRSA" : "SHA256withECDSAinP1363Format";
                handWritten = new JwtVerifier(null, pair.getPublic(), 5, Clock.systemUTC());
                nimbus = new NimbusJwtVerifier(null, pair.getPublic(), null, null, 5, Clock.systemUTC());
                token = JwtBenchmark.sign(alg, claims, input -> JwtBenchmark.sign(jca, pair, input));
            }
            default -> throw new IllegalArgumentException(alg);
        }
        TokenClaims expected = handWritten.verify(token);
        if (!expected.equals(nimbus.verify(token))) {
            throw new IllegalStateException("the two verifiers read different claims from the " + alg + " token");
        }
    }

    @Benchmark
    public TokenClaims handWritten() throws InvalidTokenException {
        return handWritten.verify(token);
    }

    @Benchmark
    public TokenClaims nimbus() throws InvalidTokenException {
        return nimbus.verify(token);
    }
}

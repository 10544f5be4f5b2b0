package io.diminuendo.auth;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.Signature;
import java.time.Clock;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Verifying one token as {@code authenticate} does ({@link JwtVerifier#verify}), in µs per token on one thread:
 * HS256, RS256 (2048-bit key) and ES256 (P-256), with the claims a gateway token carries.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class JwtBenchmark {
    static final byte[] SECRET = "benchmark-only-hs256-secret-0123456789abcdef".getBytes(StandardCharsets.UTF_8);

    private JwtVerifier hmac;
    private JwtVerifier rsa;
    private JwtVerifier ec;
    private String hs256;
    private String rs256;
    private String es256;

    @Setup
    public void setUp() throws Exception {
        KeyPair rsaPair = TestTokens.rsaKeyPair();
        KeyPair ecPair = TestTokens.ecKeyPair();
        hmac = new JwtVerifier(SECRET, null, 5, Clock.systemUTC());
        rsa = new JwtVerifier(null, rsaPair.getPublic(), 5, Clock.systemUTC());
        ec = new JwtVerifier(null, ecPair.getPublic(), 5, Clock.systemUTC());
        String claims = gatewayClaims();
        hs256 = sign("HS256", claims, JwtBenchmark::hmacSha256);
        rs256 = sign("RS256", claims, input -> sign("SHA256withRSA", rsaPair, input));
        es256 = sign("ES256", claims, input -> sign("SHA256withECDSAinP1363Format", ecPair, input));
    }

    /** The claims a gateway token carries, valid for an hour from now. */
    static String gatewayClaims() {
        long exp = System.currentTimeMillis() / 1000 + 3600;
        return "{\"sub\":\"user-42\",\"tid\":\"tenant-7\",\"scope\":\"sessions:write\",\"iat\":" + (exp - 3600)
                + ",\"exp\":" + exp + "}";
    }

    static byte[] hmacSha256(byte[] input) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET, "HmacSHA256"));
        return mac.doFinal(input);
    }

    static byte[] sign(String jcaAlgorithm, KeyPair pair, byte[] input) throws Exception {
        Signature s = Signature.getInstance(jcaAlgorithm);
        s.initSign(pair.getPrivate());
        s.update(input);
        return s.sign();
    }

    interface Signer {
        byte[] sign(byte[] input) throws Exception;
    }

    static String sign(String alg, String claims, Signer signer) throws Exception {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String input = b64.encodeToString(("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}").getBytes(StandardCharsets.UTF_8))
                + "." + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        return input + "." + b64.encodeToString(signer.sign(input.getBytes(StandardCharsets.US_ASCII)));
    }

    @Benchmark
    public TokenClaims hs256() throws InvalidTokenException {
        return hmac.verify(hs256);
    }

    @Benchmark
    public TokenClaims rs256() throws InvalidTokenException {
        return rsa.verify(rs256);
    }

    @Benchmark
    public TokenClaims es256() throws InvalidTokenException {
        return ec.verify(es256);
    }
}

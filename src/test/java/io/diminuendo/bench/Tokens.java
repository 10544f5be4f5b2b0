package io.diminuendo.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The tokens the load client authenticates with: each target's {@code --api-key}, or JWTs it mints itself, as an
 * identity provider would issue them to many users ({@code --jwt-secret} for HS256, {@code --jwt-private-key} for
 * RS256 or ES256). Minted tokens are made before anything is measured, one per user ({@code --jwt-users}, subjects
 * {@code load-0}, {@code load-1}, … of tenant {@code load}, admin scope, valid for two hours), and handed out in
 * turn, so per-user connection limits are not what a benchmark measures.
 */
final class Tokens {
    private static volatile Tokens current = new Tokens(null, "API keys");

    private final List<String> minted;
    private final String description;
    private final AtomicInteger next = new AtomicInteger();

    private Tokens(List<String> minted, String description) {
        this.minted = minted;
        this.description = description;
    }

    /** The token for the next connection to {@code t}. */
    static String next(Target t) {
        Tokens tokens = current;
        if (tokens.minted == null) {
            return t.apiKey();
        }
        return tokens.minted.get(Math.floorMod(tokens.next.getAndIncrement(), tokens.minted.size()));
    }

    static String describe() {
        return current.description;
    }

    /** Chooses the tokens for this run from the configuration. */
    static void configure(LoadConfig cfg) throws IOException, GeneralSecurityException {
        int users = Math.max(1, cfg.integer("jwt-users"));
        if (cfg.has("jwt-secret") && cfg.has("jwt-private-key")) {
            throw new IllegalArgumentException("give --jwt-secret or --jwt-private-key, not both");
        }
        if (cfg.has("jwt-secret")) {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(cfg.get("jwt-secret").getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            current = new Tokens(mint("HS256", users, mac::doFinal), "HS256 JWTs for " + users + " users");
        } else if (cfg.has("jwt-private-key")) {
            PrivateKey key = privateKey(Path.of(cfg.get("jwt-private-key")));
            boolean ec = key instanceof ECPrivateKey;
            String alg = ec ? "ES256" : "RS256";
            Signature signer = Signature.getInstance(ec ? "SHA256withECDSAinP1363Format" : "SHA256withRSA");
            current = new Tokens(mint(alg, users, input -> {
                signer.initSign(key);
                signer.update(input);
                return signer.sign();
            }), alg + " JWTs for " + users + " users");
        } else {
            current = new Tokens(null, "the API key of each target");
        }
    }

    private interface Signer {
        byte[] sign(byte[] input) throws GeneralSecurityException;
    }

    private static List<String> mint(String alg, int users, Signer signer) throws GeneralSecurityException {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = b64.encodeToString(("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}").getBytes(StandardCharsets.UTF_8));
        long now = System.currentTimeMillis() / 1000;
        List<String> out = new ArrayList<>(users);
        for (int i = 0; i < users; i++) {
            String claims = "{\"sub\":\"load-" + i + "\",\"tid\":\"load\",\"scope\":\"sessions:admin\",\"iat\":" + now
                    + ",\"exp\":" + (now + 7200) + "}";
            String input = header + "." + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
            out.add(input + "." + b64.encodeToString(signer.sign(input.getBytes(StandardCharsets.US_ASCII))));
        }
        return List.copyOf(out);
    }

    private static PrivateKey privateKey(Path pem) throws IOException, GeneralSecurityException {
        String text = Files.readString(pem);
        if (!text.contains("-----BEGIN PRIVATE KEY-----")) {
            throw new IllegalArgumentException(pem + ": expected a PKCS#8 PEM private key (BEGIN PRIVATE KEY); convert with"
                    + " openssl pkcs8 -topk8 -nocrypt");
        }
        byte[] der = Base64.getMimeDecoder().decode(text.replaceAll("-----[A-Z ]+-----", ""));
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        try {
            return KeyFactory.getInstance("RSA").generatePrivate(spec);
        } catch (GeneralSecurityException notRsa) {
            return KeyFactory.getInstance("EC").generatePrivate(spec);
        }
    }
}

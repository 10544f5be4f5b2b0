package io.diminuendo.auth;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * Reads public keys for {@link JwtVerifier}.
 */
public final class PublicKeys {

    private static final String BEGIN = "-----BEGIN PUBLIC KEY-----";
    private static final String END = "-----END PUBLIC KEY-----";
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    private PublicKeys() {
    }

    /**
     * Parses an RSA or EC key from a {@code -----BEGIN PUBLIC KEY-----} PEM (X.509 SubjectPublicKeyInfo).
     *
     * @throws IllegalArgumentException if the text is not such a PEM or holds neither an RSA nor an EC key
     */
    public static PublicKey fromPem(String pem) {
        if (pem == null || pem.isBlank()) {
            throw new IllegalArgumentException("public key PEM is empty");
        }
        int begin = pem.indexOf(BEGIN);
        if (begin < 0) {
            if (pem.contains("-----BEGIN RSA PUBLIC KEY-----")) {
                throw new IllegalArgumentException("PKCS#1 'RSA PUBLIC KEY' PEM is not supported; convert it with "
                        + "'openssl rsa -RSAPublicKey_in -in key.pem -pubout' to a 'PUBLIC KEY' PEM");
            }
            if (pem.contains("-----BEGIN CERTIFICATE-----")) {
                throw new IllegalArgumentException("expected a public key PEM, got a certificate; extract the key "
                        + "with 'openssl x509 -in cert.pem -pubkey -noout'");
            }
            throw new IllegalArgumentException("public key PEM has no " + BEGIN + " line");
        }
        int end = pem.indexOf(END, begin);
        if (end < 0) {
            throw new IllegalArgumentException("public key PEM has no " + END + " line");
        }
        String body = WHITESPACE.matcher(pem.substring(begin + BEGIN.length(), end)).replaceAll("");
        byte[] der;
        try {
            der = Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("public key PEM body is not valid base64", e);
        }
        if (der.length == 0) {
            throw new IllegalArgumentException("public key PEM body is empty");
        }
        for (String algorithm : new String[] {"RSA", "EC"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next key type
            }
        }
        throw new IllegalArgumentException("public key PEM holds neither an RSA nor an EC X.509 SubjectPublicKeyInfo");
    }
}

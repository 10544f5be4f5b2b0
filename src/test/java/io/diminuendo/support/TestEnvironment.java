package io.diminuendo.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;

import io.diminuendo.auth.TestTokens;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Gives every test run a fresh store — an SQLite file, or with {@code -Dgateway.test.store=postgresql} a new
 * PostgreSQL database, dropped when the run stops — and an RS256 key pair generated on the spot (nothing secret is
 * committed). The private key is written next to the public one so tests can mint RS256 tokens.
 */
public class TestEnvironment implements QuarkusTestResourceLifecycleManager {
    private String database;

    public static final Path KEYS = Path.of("target", "test-keys");
    public static final Path PUBLIC_KEY = KEYS.resolve("rs256-public.pem");
    public static final Path PRIVATE_KEY = KEYS.resolve("rs256-private.pk8");

    @Override
    public Map<String, String> start() {
        try {
            ensureKeys();
            if (TestDatabases.POSTGRESQL) {
                database = TestDatabases.create();
                return Map.of("diminuendo.store.kind", "postgresql",
                        "diminuendo.store.jdbc-url", TestDatabases.url(database),
                        "diminuendo.store.username", TestDatabases.USER,
                        "diminuendo.store.password", TestDatabases.PASSWORD,
                        "diminuendo.auth.jwt-public-key-location", PUBLIC_KEY.toString());
            }
            Path db = Path.of("target", "test-data", "gateway-" + UUID.randomUUID() + ".db");
            Files.createDirectories(db.getParent());
            return Map.of("diminuendo.store.path", db.toString(),
                    "diminuendo.auth.jwt-public-key-location", PUBLIC_KEY.toString());
        } catch (Exception e) {
            throw new IllegalStateException("cannot prepare the test environment", e);
        }
    }

    @Override
    public void stop() {
        if (database != null) {
            TestDatabases.drop(database);
            database = null;
        }
    }

    static synchronized void ensureKeys() throws Exception {
        if (Files.exists(PUBLIC_KEY) && Files.exists(PRIVATE_KEY)) {
            return;
        }
        Files.createDirectories(KEYS);
        KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
        gen.initialize(2048);
        KeyPair pair = gen.generateKeyPair();
        Files.writeString(PRIVATE_KEY, Base64.getEncoder().encodeToString(pair.getPrivate().getEncoded()));
        Files.writeString(PUBLIC_KEY, TestTokens.pem(pair.getPublic()));
    }

    /** The private half of the RS256 key the gateway under test trusts. */
    public static PrivateKey rsaPrivateKey() {
        try {
            ensureKeys();
            byte[] der = Base64.getDecoder().decode(Files.readString(PRIVATE_KEY).trim());
            return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot load the test RS256 key", e);
        }
    }
}

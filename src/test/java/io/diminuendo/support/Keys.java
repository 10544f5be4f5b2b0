package io.diminuendo.support;

/** The test profile's API keys (application.properties, %test): tenant acme has alice, bob, root (admin), reader; globex has eve. */
public final class Keys {
    public static final String ALICE = "test-key-alice";
    public static final String BOB = "test-key-bob";
    public static final String ROOT = "test-key-root";
    public static final String READER = "test-key-reader";
    public static final String EVE = "test-key-eve";
    public static final String HS256_SECRET = "test-only-hs256-secret-do-not-use-0123456789";

    private Keys() {
    }
}

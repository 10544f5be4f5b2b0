package io.diminuendo.support;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;

import io.diminuendo.auth.TestTokens;

/** HS256 tokens for a tenant of the test's own, so counts and lists are not disturbed by other tests. */
public final class Tenants {
    private Tenants() {
    }

    /** A tenant id nobody else uses: {@code prefix-<uuid>}. */
    public static String fresh(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    /** A token for {@code userId} in {@code tenantId} with read and write scopes, valid for an hour. */
    public static String token(String tenantId, String userId) {
        return TestTokens.hs256(Keys.HS256_SECRET.getBytes(StandardCharsets.UTF_8), Map.of("sub", userId,
                "tid", tenantId, "exp", System.currentTimeMillis() / 1000 + 3600));
    }
}

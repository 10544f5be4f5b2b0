package io.diminuendo.auth;

import java.util.List;

/**
 * Who is on the other end of a connection or request. {@code expiresAt} is the token's expiry in epoch ms, or
 * {@link Long#MAX_VALUE} for API keys and tokens without {@code exp}.
 */
public record Identity(String userId, String tenantId, boolean canRead, boolean canWrite, boolean isAdmin,
        long expiresAt) {

    /** Parses a space-separated scope string; absent means read + write; admin implies write implies read. */
    public static Identity of(String userId, String tenantId, String scope, long expiresAt) {
        boolean read = false;
        boolean write = false;
        boolean admin = false;
        if (scope == null) {
            read = true;
            write = true;
        } else {
            for (String s : scope.trim().split("\\s+")) {
                switch (s) {
                    case "sessions:admin" -> admin = true;
                    case "sessions:write" -> write = true;
                    case "sessions:read" -> read = true;
                    default -> {
                    }
                }
            }
        }
        write |= admin;
        read |= write;
        return new Identity(userId, tenantId, read, write, admin, expiresAt);
    }

    public List<String> scopes() {
        if (isAdmin) {
            return List.of("sessions:read", "sessions:write", "sessions:admin");
        }
        if (canWrite) {
            return List.of("sessions:read", "sessions:write");
        }
        return canRead ? List.of("sessions:read") : List.of();
    }
}

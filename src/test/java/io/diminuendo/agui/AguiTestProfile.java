package io.diminuendo.agui;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * The settings the AG-UI tests run with: a browser origin allow-list (CORS), a small body limit, keep-alive
 * comments every 300 ms and a small outbound queue, so a run that is read slowly catches up from the store.
 */
public class AguiTestProfile implements QuarkusTestProfile {
    static final String ALLOWED_ORIGIN = "https://ui.example";
    static final int MAX_BODY_BYTES = 262_144;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("diminuendo.security.allowed-origins", ALLOWED_ORIGIN,
                "diminuendo.agui.max-body-bytes", Integer.toString(MAX_BODY_BYTES),
                "diminuendo.agui.keep-alive-interval", "300ms",
                "diminuendo.limits.outbound-queue", "64");
    }
}

package io.diminuendo.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.diminuendo.auth.Identity;
import io.diminuendo.protocol.Json;

/**
 * A request that must run on the pod that runs the session's turn ({@code cancel_turn}, {@code permission_decision}),
 * as sent over the bus: what to do and on whose behalf. The receiving pod checks nothing the sender already
 * checked (tenant, scopes) except that the turn is still there.
 */
record RoutedCommand(String op, String sessionId, String userId, String tenantId, String scopes, String requestId,
        String decision) {
    static final String CANCEL = "cancel";
    static final String DECIDE = "decide";
    private static final ObjectMapper JSON = new ObjectMapper();

    static RoutedCommand cancel(Identity who, String sessionId) {
        return new RoutedCommand(CANCEL, sessionId, who.userId(), who.tenantId(), String.join(" ", who.scopes()), null,
                null);
    }

    static RoutedCommand decide(Identity who, String sessionId, String requestId, String decision) {
        return new RoutedCommand(DECIDE, sessionId, who.userId(), who.tenantId(), String.join(" ", who.scopes()),
                requestId, decision);
    }

    Identity identity() {
        return Identity.of(userId, tenantId, scopes, Long.MAX_VALUE);
    }

    String toJson() {
        return Json.obj().str("op", op).str("sessionId", sessionId).str("userId", userId).str("tenantId", tenantId)
                .str("scopes", scopes).str("requestId", requestId).str("decision", decision).end();
    }

    static RoutedCommand parse(String json) {
        try {
            JsonNode n = JSON.readTree(json);
            return new RoutedCommand(text(n, "op"), text(n, "sessionId"), text(n, "userId"), text(n, "tenantId"),
                    text(n, "scopes"), text(n, "requestId"), text(n, "decision"));
        } catch (Exception e) {
            throw new IllegalArgumentException("not a routed command: " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}

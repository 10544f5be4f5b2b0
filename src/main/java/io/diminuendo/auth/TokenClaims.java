package io.diminuendo.auth;

/**
 * Claims read from a verified token.
 *
 * @param subject               the {@code sub} claim
 * @param tenantId              the {@code tid} claim
 * @param scope                 the raw space-separated {@code scope} claim, or {@code null} if absent
 * @param expiresAtEpochSeconds the {@code exp} claim in epoch seconds, or {@code null} if absent
 */
public record TokenClaims(String subject, String tenantId, String scope, Long expiresAtEpochSeconds) {
}

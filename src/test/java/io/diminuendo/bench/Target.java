package io.diminuendo.bench;

import java.net.URI;

/** A server to measure: a label for the table, where it listens, its token and (optionally) its pid. */
record Target(String label, String baseUrl, String host, int port, boolean ssl, String apiKey, Long pid) {

    static Target of(String label, String baseUrl, String apiKey, String pid) {
        URI u = URI.create(baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl);
        String scheme = u.getScheme() == null ? "http" : u.getScheme().toLowerCase();
        boolean ssl = scheme.equals("https") || scheme.equals("wss");
        if (u.getHost() == null) {
            throw new IllegalArgumentException("not a URL: " + baseUrl + " (expected http://host:port)");
        }
        int port = u.getPort() > 0 ? u.getPort() : ssl ? 443 : 80;
        Long p = pid == null || pid.isBlank() ? null : Long.parseLong(pid.trim());
        return new Target(label, baseUrl, u.getHost(), port, ssl, apiKey, p);
    }

    @Override
    public String toString() {
        return label + " (" + baseUrl + ")";
    }
}

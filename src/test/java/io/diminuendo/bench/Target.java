package io.diminuendo.bench;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * A server to measure: a label for the table, where it listens, its token and (optionally) its pid. A clustered
 * gateway is one target with {@link #pods}: it is reached on its first pod, except by the streaming benchmark's
 * subscribers ({@link #subscriberPod}).
 */
record Target(String label, String baseUrl, String host, int port, boolean ssl, String apiKey, Long pid,
        List<Target> pods) {

    static Target of(String label, String baseUrl, String apiKey, String pid) {
        URI u = URI.create(withoutTrailingSlash(baseUrl));
        String scheme = u.getScheme() == null ? "http" : u.getScheme().toLowerCase();
        boolean ssl = scheme.equals("https") || scheme.equals("wss");
        if (u.getHost() == null) {
            throw new IllegalArgumentException("not a URL: " + baseUrl + " (expected http://host:port)");
        }
        int port = u.getPort() > 0 ? u.getPort() : ssl ? 443 : 80;
        Long p = pid == null || pid.isBlank() ? null : Long.parseLong(pid.trim());
        return new Target(label, baseUrl, u.getHost(), port, ssl, apiKey, p, List.of());
    }

    /** {@code url} without one trailing {@code /}, so that paths can be appended to it. */
    static String withoutTrailingSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    /**
     * The pods of one clustered gateway (http[s]:// or ws[s]:// URLs); {@code pids}, when given, the pods' pids in
     * the same order, comma separated (the first alone is fine).
     */
    static Target cluster(String label, List<String> urls, String apiKey, String pids) {
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("a cluster needs at least one URL");
        }
        String[] pid = pids == null || pids.isBlank() ? new String[0] : pids.split(",");
        if (pid.length > urls.size()) {
            throw new IllegalArgumentException("more pids (" + pids + ") than pods (" + urls + ")");
        }
        List<Target> pods = new ArrayList<>();
        for (int i = 0; i < urls.size(); i++) {
            pods.add(of(LoadClient.label(urls.get(i), "pod " + (i + 1)), urls.get(i), apiKey, i < pid.length ? pid[i] : null));
        }
        Target first = pods.get(0);
        return new Target(label, String.join(",", urls), first.host, first.port, first.ssl, apiKey, first.pid,
                List.copyOf(pods));
    }

    /** The processes of this gateway whose CPU is measured: its pid, or those of its pods that were given. */
    List<Long> gatewayPids() {
        if (pods.isEmpty()) {
            return pid == null ? List.of() : List.of(pid);
        }
        List<Long> out = new ArrayList<>();
        for (Target p : pods) {
            if (p.pid != null) {
                out.add(p.pid);
            }
        }
        return out;
    }

    boolean clustered() {
        return !pods.isEmpty();
    }

    /**
     * Where subscriber {@code i} of the streaming benchmark connects: a single gateway itself; in a cluster round
     * the pods starting with the second, since the first runs the turn, so that K=1 measures delivery across pods.
     */
    Target subscriberPod(int i) {
        return pods.isEmpty() ? this : pods.get((i + 1) % pods.size());
    }

    @Override
    public String toString() {
        return label + " (" + baseUrl + ")";
    }
}

package io.diminuendo.support;

import static io.restassured.RestAssured.given;

import java.util.stream.DoubleStream;

import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Reads the gateway's own meters from a Prometheus scrape of {@code /q/metrics}: the {@code @QuarkusTest}
 * application's ({@link #scrape()}), or any scrape text, such as a {@link GatewayProcess}'s.
 */
public final class Metrics {
    private Metrics() {
    }

    /** The {@code /q/metrics} page of the application under test (its management port); fails unless it answers 200. */
    public static String scrape() {
        return given().port(managementPort()).get("/q/metrics").then().statusCode(200).extract().asString();
    }

    /** The port of the management interface ({@code /q/health}, {@code /q/metrics}) of the application under test. */
    public static int managementPort() {
        return ConfigProvider.getConfig().getValue("quarkus.management.test-port", Integer.class);
    }

    /** The sum of every series of {@code name} (e.g. {@code diminuendo_connections_slow_consumer_closes_total}). */
    public static double sum(String name) {
        return sumIn(scrape(), name, "");
    }

    /** The sum of the series of {@code name} whose labels include {@code label} (e.g. {@code backend="fake"}). */
    public static double sum(String name, String label) {
        return sumIn(scrape(), name, label);
    }

    /**
     * The sum of the series of {@code name} in {@code scrape} whose labels include {@code label} (every series when
     * {@code label} is empty); 0 when there is none.
     */
    public static double sumIn(String scrape, String name, String label) {
        return values(scrape, name, label).sum();
    }

    /** The value of the first series of {@code name}; fails when there is none. */
    public static double value(String name) {
        return valueIn(scrape(), name, "");
    }

    /** The value of the first series of {@code name} in {@code scrape} whose labels include {@code label}; fails when there is none. */
    public static double valueIn(String scrape, String name, String label) {
        return values(scrape, name, label).findFirst()
                .orElseThrow(() -> new AssertionError("no sample " + name + (label.isEmpty() ? "" : "{" + label + "}")));
    }

    private static DoubleStream values(String scrape, String name, String label) {
        return scrape.lines().filter(l -> isSampleOf(l, name, label))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)));
    }

    /** Whether {@code line} is a sample of {@code name} whose labels include {@code label}. */
    private static boolean isSampleOf(String line, String name, String label) {
        if (line.startsWith(name + " ")) {
            return label.isEmpty();
        }
        return line.startsWith(name + "{") && line.substring(name.length(), line.lastIndexOf('}') + 1).contains(label);
    }

    public static double slowConsumerCloses() {
        return sum("diminuendo_connections_slow_consumer_closes_total");
    }

    public static double catchUpRounds() {
        return sum("diminuendo_replay_catch_up_rounds_total");
    }
}

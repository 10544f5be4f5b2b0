package io.diminuendo.support;

import static io.restassured.RestAssured.given;

/** Reads the gateway's own meters from {@code /q/metrics} in a {@code @QuarkusTest}. */
public final class Metrics {
    private Metrics() {
    }

    /** The sum of every series of {@code name} (e.g. {@code diminuendo_connections_slow_consumer_closes_total}). */
    public static double sum(String name) {
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        return metrics.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    public static double slowConsumerCloses() {
        return sum("diminuendo_connections_slow_consumer_closes_total");
    }

    public static double catchUpRounds() {
        return sum("diminuendo_replay_catch_up_rounds_total");
    }
}

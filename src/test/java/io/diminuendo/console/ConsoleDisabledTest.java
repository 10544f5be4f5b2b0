package io.diminuendo.console;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/** {@code diminuendo.console.enabled=false}: the console's routes are gone, the client library stays. */
@QuarkusTest
@TestProfile(ConsoleDisabledTest.Off.class)
class ConsoleDisabledTest {

    public static class Off implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("diminuendo.console.enabled", "false");
        }
    }

    @Test
    void theConsoleIsGoneAndTheLibraryStays() {
        for (String path : new String[] {"/", "/console/app.js", "/console/settings.json"}) {
            given().get(path).then().statusCode(404).body("code", equalTo("not_found"));
        }
        given().get("/diminuendo-client.js").then().statusCode(200).body(containsString("DiminuendoClient"));
        given().get("/health").then().statusCode(200);
    }
}

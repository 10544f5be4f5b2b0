package io.diminuendo.console;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.emptyString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/**
 * What the gateway serves for the console over plain HTTP: the page and its files with a strict
 * Content-Security-Policy and no inline code for it to allow, ETags, HEAD, the dev menu setting, and the client
 * library with its type declarations.
 */
@QuarkusTest
class ConsoleRoutesTest {
    private static final String[] CONSOLE_FILES = {"/", "/console/app.js", "/console/app.css", "/console/icon.svg",
        "/console/settings.json", "/diminuendo-client.js", "/diminuendo-client.d.ts"};

    @Test
    void everyFileComesWithAStrictPolicyAndNoSniffing() {
        for (String path : CONSOLE_FILES) {
            given().get(path).then().statusCode(200)
                    .header("content-security-policy", equalTo(ConsoleRoutes.CSP))
                    .header("x-content-type-options", "nosniff")
                    .header("x-frame-options", "DENY")
                    .header("referrer-policy", "no-referrer")
                    .header("etag", startsWith("\""));
        }
        assertThat(ConsoleRoutes.CSP).contains("default-src 'none'", "script-src 'self';", "frame-ancestors 'none'")
                .doesNotContain("unsafe-inline", "unsafe-eval", "http:", "https:", "*");
    }

    @Test
    void thePageHasNoInlineScriptStyleOrHandlerAndLoadsNothingFromElsewhere() {
        String html = given().get("/").then().statusCode(200).contentType(startsWith("text/html")).extract().asString();
        Matcher scripts = Pattern.compile("<script([^>]*)>(.*?)</script>", Pattern.DOTALL).matcher(html);
        int count = 0;
        while (scripts.find()) {
            count++;
            assertThat(scripts.group(1)).contains("src=\"/console/app.js\"");
            assertThat(scripts.group(2)).isBlank();
        }
        assertThat(count).isEqualTo(1);
        assertThat(html).doesNotContainPattern("\\son[a-z]+=").doesNotContain("style=", "<style", "http://", "https://",
                "//fonts", "javascript:");
        String app = given().get("/console/app.js").then().statusCode(200).extract().asString();
        assertThat(app).contains("from '/diminuendo-client.js'").doesNotContain("innerHTML", "eval(", "http://",
                "https://", "console.log");
    }

    @Test
    void typesAreRightAndAnUnchangedFileIsNotSentTwice() {
        given().get("/diminuendo-client.js").then().contentType(startsWith("text/javascript"))
                .body(containsString("export class DiminuendoClient"));
        given().get("/diminuendo-client.d.ts").then().body(containsString("export declare class DiminuendoClient"));
        given().get("/console/app.css").then().contentType(startsWith("text/css"));
        given().get("/console/icon.svg").then().contentType(startsWith("image/svg+xml"));
        given().get("/console/settings.json").then().contentType(startsWith("application/json"))
                .body("simMenu", equalTo(true));

        Response first = given().get("/");
        String etag = first.header("etag");
        given().header("If-None-Match", etag).get("/").then().statusCode(304).body(emptyString());
        given().header("If-None-Match", "\"other\"").get("/").then().statusCode(200);
        given().head("/diminuendo-client.js").then().statusCode(200).body(emptyString())
                .header("content-length", Integer.toString(given().get("/diminuendo-client.js").asByteArray().length));
    }

    @Test
    void otherMethodsAndUnknownConsoleFilesAreRefusedAsJson() {
        given().post("/").then().statusCode(405).body("code", equalTo("method_not_allowed"));
        given().get("/console/nothing.js").then().statusCode(404).body("code", equalTo("not_found"));
    }
}

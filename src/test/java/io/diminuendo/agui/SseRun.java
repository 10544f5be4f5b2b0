package io.diminuendo.agui;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A plain HTTP client for the AG-UI endpoint in Java tests: posts a {@code RunAgentInput} and reads the answer as it
 * streams, line by line, so a test can stop reading, read slowly or hang up.
 */
final class SseRun implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    final HttpResponse<InputStream> response;
    private final BufferedReader reader;
    /** Comment lines skipped by {@link #next()} so far (keep-alives). */
    final List<String> comments = new ArrayList<>();

    private SseRun(HttpResponse<InputStream> response) {
        this.response = response;
        this.reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
    }

    /** A body whose last message is the user's {@code prompt}, on {@code threadId}. */
    static String prompt(String threadId, String prompt) {
        return JSON.createObjectNode().put("threadId", threadId).put("runId", UUID.randomUUID().toString())
                .set("messages", JSON.createArrayNode().add(JSON.createObjectNode().put("id", UUID.randomUUID().toString())
                        .put("role", "user").put("content", prompt)))
                .toString();
    }

    /** Posts {@code body} with the API key {@code key} (none when null) and extra header pairs. */
    static SseRun post(URI uri, String key, String body, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").header("Accept", "text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        for (int i = 0; i < headers.length; i += 2) {
            request.setHeader(headers[i], headers[i + 1]);
        }
        try {
            return new SseRun(HTTP.send(request.build(), HttpResponse.BodyHandlers.ofInputStream()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    int status() {
        return response.statusCode();
    }

    String header(String name) {
        return response.headers().firstValue(name).orElse(null);
    }

    /** The next AG-UI event, skipping comment lines (kept in {@link #comments}); null at the end of the stream. */
    JsonNode next() {
        try {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.startsWith(":")) {
                    comments.add(line);
                } else if (line.startsWith("data: ")) {
                    return JSON.readTree(line.substring(6));
                } else if (!line.isEmpty()) {
                    throw new AssertionError("not an SSE line: " + line);
                }
            }
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The next line that is not blank: an event's {@code data:} line or a comment; null at the end. */
    String nextLine() {
        try {
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.isEmpty()) {
                    return line;
                }
            }
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The next event of {@code type}, skipping others. */
    JsonNode next(String type) {
        JsonNode e;
        while ((e = next()) != null) {
            if (type.equals(e.path("type").asText())) {
                return e;
            }
        }
        throw new AssertionError("the stream ended without " + type);
    }

    /** Every event until the stream ends. */
    List<JsonNode> rest() {
        List<JsonNode> out = new ArrayList<>();
        JsonNode e;
        while ((e = next()) != null) {
            out.add(e);
        }
        return out;
    }

    /** The whole body, for an answer that is not a stream. */
    JsonNode json() {
        try {
            return JSON.readTree(response.body().readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Hangs up: the connection is closed without reading on. */
    @Override
    public void close() {
        try {
            response.body().close();
        } catch (IOException e) {
            // closing is all that was asked
        }
    }
}

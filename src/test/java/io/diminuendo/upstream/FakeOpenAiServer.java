package io.diminuendo.upstream;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A fake OpenAI-compatible server on a raw socket, so the tests control every byte: it records each request and
 * answers {@code POST /v1/chat/completions} with a scenario chosen by the first word of the last message:
 * <ul>
 * <li>a transcript name ({@code plain-text}, {@code reasoning}, {@code tool-call}, …): replays
 * {@code src/test/resources/openai/<name>.sse} as a chunked body, split into many small writes at awkward
 * offsets (inside multi-byte characters, between {@code \r} and {@code \n}, inside {@code data:}); the word
 * {@code crlf} after it turns the line ends into {@code \r\n};</li>
 * <li>{@code truncated}: {@code truncated.sse} as a body delimited by the connection close, then close;</li>
 * <li>{@code dropped}: {@code truncated.sse} chunked, then the connection is reset (no last chunk);</li>
 * <li>{@code status-<code>}: that HTTP status with the body {@code openai/<code>.json};</li>
 * <li>{@code slow <n> <ms>}: n text chunks {@code w<i> }, ms apart, then finish, usage and {@code [DONE]};
 * when the client goes away first, the prompt is reported by {@link #awaitClosedByClient};</li>
 * <li>{@code stall}: the headers and one chunk, then silence until the client closes the connection.</li>
 * </ul>
 * Every response says {@code Connection: close}, so each request has its own connection.
 */
public final class FakeOpenAiServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A recorded request. Header names are lower case. */
    public record Recorded(String method, String path, Map<String, String> headers, JsonNode body) {
        /** The content of the last message: the prompt of the turn. */
        public String prompt() {
            JsonNode messages = body.path("messages");
            return messages.path(messages.size() - 1).path("content").asText();
        }
    }

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fake-openai");
        t.setDaemon(true);
        return t;
    });
    private final List<Recorded> requests = new CopyOnWriteArrayList<>();
    private final LinkedBlockingQueue<String> closedByClient = new LinkedBlockingQueue<>();
    private volatile boolean closed;

    private FakeOpenAiServer() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(this::acceptLoop);
    }

    public static FakeOpenAiServer start() throws IOException {
        return new FakeOpenAiServer();
    }

    public int port() {
        return server.getLocalPort();
    }

    public String url() {
        return "http://localhost:" + port();
    }

    public List<Recorded> requests() {
        return List.copyOf(requests);
    }

    /** The recorded request whose prompt is {@code prompt}. */
    public Recorded request(String prompt) {
        return requests.stream().filter(r -> prompt.equals(r.prompt())).findFirst()
                .orElseThrow(() -> new AssertionError("no request with prompt " + prompt + " in " + requests));
    }

    /** True once the client closed the connection of the {@code slow}/{@code stall} turn with this prompt. */
    public boolean awaitClosedByClient(String prompt, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        List<String> seen = new ArrayList<>();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                String p = left <= 0 ? null : closedByClient.poll(left, TimeUnit.NANOSECONDS);
                if (p == null) {
                    return false;
                }
                if (p.equals(prompt)) {
                    return true;
                }
                seen.add(p);
            }
        } finally {
            closedByClient.addAll(seen);
        }
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket s = server.accept();
                threads.execute(() -> serve(s));
            } catch (IOException e) {
                if (!closed) {
                    e.printStackTrace();
                }
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            socket.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            Recorded r = readRequest(in);
            if (r == null) {
                return;
            }
            requests.add(r);
            OutputStream out = socket.getOutputStream();
            String prompt = r.prompt();
            String[] words = prompt.split("\\s+");
            String scenario = words[0];
            if (!"/v1/chat/completions".equals(r.path()) || !"POST".equals(r.method())) {
                respond(out, 404, "{\"error\":{\"message\":\"Not found: " + r.path() + "\"}}", "");
            } else if (scenario.startsWith("status-")) {
                String code = scenario.substring("status-".length());
                respond(out, Integer.parseInt(code), resource(code + ".json"),
                        code.equals("429") ? "Retry-After: 20\r\n" : "");
            } else if (scenario.equals("truncated")) {
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                        + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                for (byte[] piece : split(resource("truncated.sse").getBytes(StandardCharsets.UTF_8))) {
                    out.write(piece);
                    out.flush();
                }
            } else if (scenario.equals("dropped")) {
                streamHead(out);
                for (byte[] piece : split(resource("truncated.sse").getBytes(StandardCharsets.UTF_8))) {
                    chunk(out, piece);
                }
                Thread.sleep(50);
                socket.setSoLinger(true, 0); // reset, not a clean end of the body
            } else if (scenario.equals("slow")) {
                slow(out, prompt, Integer.parseInt(words[1]), Long.parseLong(words[2]));
            } else if (scenario.equals("stall")) {
                streamHead(out);
                chunk(out, ("data: {\"id\":\"chatcmpl-stall\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
                        + "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n").getBytes(StandardCharsets.UTF_8));
                socket.setSoTimeout(30_000);
                try {
                    if (in.read() < 0) {
                        closedByClient.add(prompt);
                    }
                } catch (IOException e) {
                    closedByClient.add(prompt);
                }
            } else {
                String transcript;
                try {
                    transcript = resource(scenario + ".sse");
                } catch (IllegalArgumentException e) {
                    respond(out, 400, "{\"error\":{\"message\":\"fake server: unknown scenario " + scenario + "\"}}", "");
                    return;
                }
                if (words.length > 1 && words[1].equals("crlf")) {
                    transcript = transcript.replace("\n", "\r\n");
                }
                streamHead(out);
                for (byte[] piece : split(transcript.getBytes(StandardCharsets.UTF_8))) {
                    chunk(out, piece);
                }
                endChunks(out);
            }
        } catch (IOException | InterruptedException e) {
            // the client went away; the slow scenario reports it itself
        } catch (RuntimeException e) {
            e.printStackTrace();
        }
    }

    private void slow(OutputStream out, String prompt, int n, long delayMs) throws InterruptedException {
        try {
            streamHead(out);
            String id = "chatcmpl-slow";
            chunk(out, chunk(id, "{\"role\":\"assistant\",\"content\":\"\"}", null));
            for (int i = 0; i < n; i++) {
                Thread.sleep(delayMs);
                chunk(out, chunk(id, "{\"content\":\"w" + i + " \"}", null));
            }
            chunk(out, chunk(id, "{}", "\"stop\""));
            chunk(out, ("data: {\"id\":\"" + id + "\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
                    + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":" + n + ",\"total_tokens\":" + (n + 3) + "}}\n\n")
                    .getBytes(StandardCharsets.UTF_8));
            chunk(out, "data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            endChunks(out);
        } catch (IOException e) {
            closedByClient.add(prompt);
        }
    }

    private static byte[] chunk(String id, String delta, String finish) {
        return ("data: {\"id\":\"" + id + "\",\"object\":\"chat.completion.chunk\",\"created\":1732613100,\"model\":\"test-model\","
                + "\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"logprobs\":null,\"finish_reason\":" + finish + "}]}\n\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Split points chosen to hurt: inside every multi-byte UTF-8 character, between every {@code \r\n}, two bytes
     * into every {@code data:}, and otherwise after 1, 2, 3, 5, 8, 13, 21, 34 bytes in turn.
     */
    static List<byte[]> split(byte[] bytes) {
        TreeSet<Integer> cuts = new TreeSet<>();
        for (int i = 1; i < bytes.length; i++) {
            boolean continuation = (bytes[i] & 0xC0) == 0x80;
            boolean crlf = bytes[i - 1] == '\r' && bytes[i] == '\n';
            boolean inData = i >= 2 && bytes[i - 2] == 'd' && bytes[i - 1] == 'a' && bytes[i] == 't';
            if (continuation || crlf || inData) {
                cuts.add(i);
            }
        }
        int[] sizes = {1, 2, 3, 5, 8, 13, 21, 34};
        for (int at = 0, k = 0; at < bytes.length; at += sizes[k++ % sizes.length]) {
            if (at > 0) {
                cuts.add(at);
            }
        }
        List<byte[]> pieces = new ArrayList<>();
        int from = 0;
        for (int cut : cuts) {
            pieces.add(java.util.Arrays.copyOfRange(bytes, from, cut));
            from = cut;
        }
        pieces.add(java.util.Arrays.copyOfRange(bytes, from, bytes.length));
        return pieces;
    }

    private static void streamHead(OutputStream out) throws IOException {
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\n"
                + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static void chunk(OutputStream out, byte[] piece) throws IOException {
        out.write((Integer.toHexString(piece.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(piece);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static void endChunks(OutputStream out) throws IOException {
        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static void respond(OutputStream out, int status, String body, String extraHeaders) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        out.write(("HTTP/1.1 " + status + " Status\r\nContent-Type: application/json\r\nContent-Length: " + b.length
                + "\r\n" + extraHeaders + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(b);
        out.flush();
    }

    private static Recorded readRequest(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String[] lines = head.toString(StandardCharsets.US_ASCII).split("\r\n");
        String[] requestLine = lines[0].split(" ");
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
            }
        }
        int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
        byte[] body = in.readNBytes(length);
        return new Recorded(requestLine[0], requestLine[1], headers, JSON.readTree(body));
    }

    static String resource(String name) {
        try (InputStream in = FakeOpenAiServer.class.getResourceAsStream("/openai/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no test resource openai/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        threads.shutdownNow();
    }
}

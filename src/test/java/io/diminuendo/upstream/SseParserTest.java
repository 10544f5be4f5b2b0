package io.diminuendo.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import io.vertx.core.buffer.Buffer;

/** The incremental SSE parser: results never depend on where the bytes are split. */
class SseParserTest {

    private static final class Recorder implements SseParser.Listener {
        final List<String> events = new ArrayList<>();
        int oversized;

        @Override
        public void event(String event, String data) {
            events.add(event + "|" + data);
        }

        @Override
        public void oversized() {
            oversized++;
        }
    }

    private static List<String> parseWhole(byte[] bytes) {
        Recorder r = new Recorder();
        SseParser p = new SseParser(r, 1 << 20);
        p.feed(bytes);
        p.end();
        return r.events;
    }

    private static List<String> parseSplit(byte[] bytes, int... cuts) {
        Recorder r = new Recorder();
        SseParser p = new SseParser(r, 1 << 20);
        int from = 0;
        for (int cut : cuts) {
            p.feed(Buffer.buffer(java.util.Arrays.copyOfRange(bytes, from, cut)));
            from = cut;
        }
        p.feed(Buffer.buffer(java.util.Arrays.copyOfRange(bytes, from, bytes.length)));
        p.end();
        return r.events;
    }

    /** Every feature at once, with \n, \r\n and \r line ends and multi-byte characters. */
    private static final String MIXED = "\uFEFF: a comment first\n"
            + "data: {\"content\":\"é中🎶\"}\n\n"
            + "data: first line\r\ndata:second line, no space\r\ndata:  two spaces keep one\r\n\r\n"
            + "event: error\rdata: {\"error\":{\"message\":\"boom ☕\"}}\r\r"
            + ": keep-alive\r\n\r\n"
            + "id: 7\nretry: 1000\nunknown: field\ndata\n\n"
            + "data: [DONE]\n\n"
            + "data: incomplete at the end";

    private static final List<String> MIXED_EVENTS = List.of(
            "message|{\"content\":\"é中🎶\"}",
            "message|first line\nsecond line, no space\n two spaces keep one",
            "error|{\"error\":{\"message\":\"boom ☕\"}}",
            "message|",
            "message|[DONE]");

    @Test
    void parsesDataCommentsEventNamesAndLineEndsAndDropsTheIncompleteLastEvent() {
        assertThat(parseWhole(MIXED.getBytes(StandardCharsets.UTF_8))).containsExactlyElementsOf(MIXED_EVENTS);
    }

    @Test
    void everySingleSplitPointYieldsTheSameEvents() {
        for (String transcript : List.of("plain-text.sse", "reasoning.sse", "tool-call.sse", "malformed.sse")) {
            byte[] lf = FakeOpenAiServer.resource(transcript).getBytes(StandardCharsets.UTF_8);
            byte[] crlf = FakeOpenAiServer.resource(transcript).replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
            for (byte[] bytes : List.of(lf, crlf, MIXED.getBytes(StandardCharsets.UTF_8))) {
                List<String> whole = parseWhole(bytes);
                assertThat(whole).isNotEmpty();
                for (int cut = 0; cut <= bytes.length; cut++) {
                    assertThat(parseSplit(bytes, cut)).as("%s split at %d", transcript, cut).isEqualTo(whole);
                }
            }
        }
        assertThat(parseWhole(MIXED.getBytes(StandardCharsets.UTF_8))).containsExactlyElementsOf(MIXED_EVENTS);
    }

    @Test
    void byteByByteAndRandomSplitsYieldTheSameEvents() {
        Random random = new Random(42);
        for (String transcript : List.of("plain-text.sse", "reasoning.sse", "tool-call.sse", "error-midstream.sse")) {
            byte[] bytes = FakeOpenAiServer.resource(transcript).replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
            List<String> whole = parseWhole(bytes);
            int[] all = new int[bytes.length - 1];
            for (int i = 0; i < all.length; i++) {
                all[i] = i + 1;
            }
            assertThat(parseSplit(bytes, all)).as("%s byte by byte", transcript).isEqualTo(whole);
            for (int round = 0; round < 200; round++) {
                int[] cuts = random.ints(1 + random.nextInt(40), 0, bytes.length + 1).sorted().toArray();
                assertThat(parseSplit(bytes, cuts)).as("%s split at %s", transcript, java.util.Arrays.toString(cuts)).isEqualTo(whole);
            }
        }
    }

    @Test
    void aCrLfSplitBetweenItsTwoBytesIsOneLineEnd() {
        byte[] bytes = "data: a\r\ndata: b\r\n\r\n".getBytes(StandardCharsets.UTF_8);
        assertThat(parseSplit(bytes, 8)).containsExactly("message|a\nb");
        assertThat(parseSplit(bytes, 8, 17, 18, 19)).containsExactly("message|a\nb");
    }

    @Test
    void aMultiByteCharacterSplitAcrossFeedsIsDecodedWhole() {
        byte[] bytes = "data: 🎶\n\n".getBytes(StandardCharsets.UTF_8);
        assertThat(parseSplit(bytes, 7, 8, 9)).containsExactly("message|🎶");
    }

    @Test
    void anOversizedLineIsDroppedAndReportedAndParsingGoesOn() {
        Recorder r = new Recorder();
        SseParser p = new SseParser(r, 64);
        p.feed(("data: " + "x".repeat(100) + "\n\ndata: ok\n\n").getBytes(StandardCharsets.UTF_8));
        p.feed(("data: " + "y".repeat(40) + "\ndata: " + "z".repeat(40) + "\n\ndata: after\n\n").getBytes(StandardCharsets.UTF_8));
        assertThat(r.events).containsExactly("message|ok", "message|after");
        assertThat(r.oversized).isEqualTo(2);
    }
}

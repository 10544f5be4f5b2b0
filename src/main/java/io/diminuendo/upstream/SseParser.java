package io.diminuendo.upstream;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import io.vertx.core.buffer.Buffer;

/**
 * An incremental parser for server-sent events (the {@code text/event-stream} format of the HTML standard).
 * Bytes may be fed split at any offset, including inside a multi-byte UTF-8 character or between the
 * {@code \r} and {@code \n} of a line break: lines are collected as bytes and decoded only once complete.
 * Lines end with {@code \r\n}, {@code \n} or {@code \r}. {@code data:} lines are joined with {@code \n}, a blank
 * line dispatches the event, lines starting with {@code :} are comments, {@code event:} names the event and
 * {@code id:}/{@code retry:} are ignored. An event still incomplete when the stream ends is dropped, as the
 * standard says. A line longer than {@code maxLineBytes} (or an event whose data grows beyond it) is dropped
 * and reported through {@link Listener#oversized()} so that a server sending no line breaks cannot make the
 * buffer grow without bound. Not thread-safe.
 */
public final class SseParser {

    /** Receives the parsed events. */
    public interface Listener {
        /** One dispatched event; {@code event} is {@code message} unless an {@code event:} field named it. */
        void event(String event, String data);

        /** A line or an event's data exceeded the limit and was dropped. */
        default void oversized() {
        }
    }

    private static final byte CR = '\r';
    private static final byte LF = '\n';

    private final Listener listener;
    private final int maxLineBytes;
    private byte[] line = new byte[256];
    private int lineLength;
    private boolean skippingLine;
    private boolean afterCr;
    private boolean started;
    private final StringBuilder data = new StringBuilder();
    private boolean hasData;
    private boolean dataTooLong;
    private String eventName;

    public SseParser(Listener listener, int maxLineBytes) {
        this.listener = listener;
        this.maxLineBytes = maxLineBytes;
    }

    public void feed(Buffer buffer) {
        feed(buffer.getBytes(), 0, buffer.length());
    }

    public void feed(byte[] bytes) {
        feed(bytes, 0, bytes.length);
    }

    public void feed(byte[] bytes, int offset, int length) {
        int end = offset + length;
        for (int i = offset; i < end; i++) {
            byte b = bytes[i];
            if (afterCr) {
                afterCr = false;
                if (b == LF) {
                    continue; // the second half of a \r\n already ended the line
                }
            }
            if (b == CR || b == LF) {
                afterCr = b == CR;
                endOfLine();
            } else if (!skippingLine) {
                append(b);
            }
        }
    }

    /** The stream ended: an event without its closing blank line is dropped. */
    public void end() {
        lineLength = 0;
        resetEvent();
    }

    private void append(byte b) {
        if (lineLength == maxLineBytes) {
            skippingLine = true;
            lineLength = 0;
            listener.oversized();
            return;
        }
        if (lineLength == line.length) {
            line = Arrays.copyOf(line, Math.min(maxLineBytes, line.length * 2));
        }
        line[lineLength++] = b;
    }

    private void endOfLine() {
        if (skippingLine) {
            skippingLine = false;
            return;
        }
        int start = 0;
        if (!started) {
            started = true;
            // a UTF-8 byte order mark at the very start of the stream is ignored
            if (lineLength >= 3 && line[0] == (byte) 0xEF && line[1] == (byte) 0xBB && line[2] == (byte) 0xBF) {
                start = 3;
            }
        }
        int length = lineLength - start;
        lineLength = 0;
        if (line.length > 64 * 1024) {
            line = new byte[256]; // do not keep a buffer sized for one huge line
        }
        if (length == 0) {
            dispatch();
            return;
        }
        byte[] bytes = line;
        if (bytes[start] == ':') {
            return; // comment, e.g. a keep-alive
        }
        int colon = -1;
        for (int i = start; i < start + length; i++) {
            if (bytes[i] == ':') {
                colon = i;
                break;
            }
        }
        String field;
        String value;
        if (colon < 0) {
            field = new String(bytes, start, length, StandardCharsets.UTF_8);
            value = "";
        } else {
            field = new String(bytes, start, colon - start, StandardCharsets.UTF_8);
            int v = colon + 1;
            if (v < start + length && bytes[v] == ' ') {
                v++;
            }
            value = new String(bytes, v, start + length - v, StandardCharsets.UTF_8);
        }
        switch (field) {
            case "data" -> {
                if (dataTooLong) {
                    return;
                }
                if (data.length() + value.length() + 1 > maxLineBytes) {
                    dataTooLong = true;
                    data.setLength(0);
                    listener.oversized();
                    return;
                }
                data.append(value).append('\n');
                hasData = true;
            }
            case "event" -> eventName = value;
            default -> {
                // id, retry and unknown fields are ignored
            }
        }
    }

    private void dispatch() {
        if (hasData && !dataTooLong) {
            data.setLength(data.length() - 1); // the \n after the last data line
            String name = eventName == null || eventName.isEmpty() ? "message" : eventName;
            String payload = data.toString();
            resetEvent();
            listener.event(name, payload);
        } else {
            resetEvent();
        }
    }

    private void resetEvent() {
        data.setLength(0);
        if (data.capacity() > 64 * 1024) {
            data.trimToSize();
        }
        hasData = false;
        dataTooLong = false;
        eventName = null;
    }
}

package io.diminuendo.store;

import java.util.Arrays;

/**
 * Rows in PostgreSQL's {@code COPY … FROM STDIN} text format, built in one reusable byte buffer: columns separated
 * by tabs, rows ended by newlines, {@code \N} for null, and backslash, tab, newline and carriage return escaped with a
 * backslash. Strings are written as UTF-8 directly, without an intermediate {@code byte[]} per value.
 */
final class CopyText {
    private static final int INITIAL = 64 * 1024;
    /** A buffer grown past this by a batch of large frames is not kept for the next batch. */
    private static final int KEEP = 4 * 1024 * 1024;
    private byte[] buf = new byte[INITIAL];
    private int len;

    void reset() {
        len = 0;
        if (buf.length > KEEP) {
            buf = new byte[INITIAL];
        }
    }

    byte[] bytes() {
        return buf;
    }

    int length() {
        return len;
    }

    CopyText text(String s) {
        if (s == null) {
            room(2);
            buf[len++] = '\\';
            buf[len++] = 'N';
            return this;
        }
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                switch (c) {
                    case '\\' -> escaped('\\');
                    case '\t' -> escaped('t');
                    case '\n' -> escaped('n');
                    case '\r' -> escaped('r');
                    default -> {
                        room(1);
                        buf[len++] = (byte) c;
                    }
                }
            } else if (c < 0x800) {
                room(2);
                buf[len++] = (byte) (0xC0 | c >> 6);
                buf[len++] = (byte) (0x80 | c & 0x3F);
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                room(4);
                buf[len++] = (byte) (0xF0 | cp >> 18);
                buf[len++] = (byte) (0x80 | cp >> 12 & 0x3F);
                buf[len++] = (byte) (0x80 | cp >> 6 & 0x3F);
                buf[len++] = (byte) (0x80 | cp & 0x3F);
            } else if (Character.isSurrogate(c)) {
                // a lone surrogate has no UTF-8 form: '?', as String.getBytes writes it
                room(1);
                buf[len++] = '?';
            } else {
                room(3);
                buf[len++] = (byte) (0xE0 | c >> 12);
                buf[len++] = (byte) (0x80 | c >> 6 & 0x3F);
                buf[len++] = (byte) (0x80 | c & 0x3F);
            }
        }
        return this;
    }

    CopyText number(long v) {
        room(20);
        if (v == Long.MIN_VALUE) {
            return ascii(Long.toString(v));
        }
        if (v < 0) {
            buf[len++] = '-';
            v = -v;
        }
        int start = len;
        do {
            buf[len++] = (byte) ('0' + v % 10);
            v /= 10;
        } while (v != 0);
        for (int i = start, j = len - 1; i < j; i++, j--) {
            byte t = buf[i];
            buf[i] = buf[j];
            buf[j] = t;
        }
        return this;
    }

    CopyText tab() {
        room(1);
        buf[len++] = '\t';
        return this;
    }

    CopyText endRow() {
        room(1);
        buf[len++] = '\n';
        return this;
    }

    private CopyText ascii(String s) {
        room(s.length());
        for (int i = 0; i < s.length(); i++) {
            buf[len++] = (byte) s.charAt(i);
        }
        return this;
    }

    private void escaped(char c) {
        room(2);
        buf[len++] = '\\';
        buf[len++] = (byte) c;
    }

    private void room(int more) {
        if (len + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
        }
    }
}

package io.diminuendo.protocol;

/** Minimal hand-written JSON output for the hot path: frames are built as text once and sent as-is. */
public final class Json {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Json() {
    }

    /** Appends {@code value} as a JSON string literal, or {@code null}. */
    public static StringBuilder string(StringBuilder out, String value) {
        if (value == null) {
            return out.append("null");
        }
        out.append('"');
        int len = value.length();
        int start = 0;
        for (int i = 0; i < len; i++) {
            char c = value.charAt(i);
            if (c >= 0x20 && c != '"' && c != '\\' && c != 0x2028 && c != 0x2029) {
                continue;
            }
            out.append(value, start, i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> out.append("\\u").append(HEX[(c >> 12) & 0xF]).append(HEX[(c >> 8) & 0xF])
                        .append(HEX[(c >> 4) & 0xF]).append(HEX[c & 0xF]);
            }
            start = i + 1;
        }
        return out.append(value, start, len).append('"');
    }

    public static String quote(String value) {
        return string(new StringBuilder(value == null ? 4 : value.length() + 8), value).toString();
    }

    /** A small builder for one JSON object; values that are already JSON text are appended raw. */
    public static final class Obj {
        private final StringBuilder out;
        private boolean first = true;

        public Obj() {
            this(new StringBuilder(128));
        }

        public Obj(StringBuilder out) {
            this.out = out;
            out.append('{');
        }

        private StringBuilder key(String name) {
            if (!first) {
                out.append(',');
            }
            first = false;
            return out.append('"').append(name).append("\":");
        }

        public Obj str(String name, String value) {
            string(key(name), value);
            return this;
        }

        public Obj strIfPresent(String name, String value) {
            return value == null ? this : str(name, value);
        }

        public Obj num(String name, long value) {
            key(name).append(value);
            return this;
        }

        public Obj bool(String name, boolean value) {
            key(name).append(value);
            return this;
        }

        /** Appends pre-encoded JSON (an object, array, number or literal). */
        public Obj raw(String name, String json) {
            key(name).append(json == null ? "null" : json);
            return this;
        }

        public Obj rawIfPresent(String name, String json) {
            return json == null ? this : raw(name, json);
        }

        public String end() {
            return out.append('}').toString();
        }
    }

    public static Obj obj() {
        return new Obj();
    }
}

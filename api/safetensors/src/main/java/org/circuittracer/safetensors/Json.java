package org.circuittracer.safetensors;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON (RFC 8259) parser and writer for safetensors headers and index files.
 *
 * <p>Strict because the input is untrusted: it validates UTF-8 first, rejects duplicate keys, lone surrogate
 * escapes, unescaped control characters, leading zeros and trailing garbage, limits nesting depth (no stack
 * overflow) and array length (no memory blow-up from a long list), and reports errors with the byte offset.
 *
 * <p>Values: objects are {@code LinkedHashMap<String, Object>} (document order), arrays {@code List<Object>},
 * strings {@code String}, numbers {@link Num} (the literal text, so integers of any size are judged by the
 * caller), booleans {@code Boolean}, and null {@link #NULL}.
 */
final class Json {

    /** The JSON {@code null} value (a map cannot hold Java null unambiguously). */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    /** Deeper nesting is rejected; safetensors headers need 3 levels. */
    static final int MAX_DEPTH = 64;

    /** A JSON number, kept as its literal text. */
    record Num(String text) {
        /** @return whether the literal is a plain integer (no fraction, no exponent) */
        boolean isInteger() {
            return text.indexOf('.') < 0 && text.indexOf('e') < 0 && text.indexOf('E') < 0;
        }

        /** @return the value if it is an integer in [0, Long.MAX_VALUE], else -1 */
        long nonNegativeLongOrMinusOne() {
            if (!isInteger() || text.startsWith("-") || text.length() > 19) {
                return -1;
            }
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException tooLarge) {
                return -1;
            }
        }
    }

    /** Why parsing failed, and where (byte offset into the parsed bytes). */
    static final class ParseException extends Exception {
        private static final long serialVersionUID = 1L;
        final SafetensorsFormatException.Kind kind;
        final long offset;

        ParseException(SafetensorsFormatException.Kind kind, long offset, String message) {
            super(message);
            this.kind = kind;
            this.offset = offset;
        }
    }

    private final byte[] in;
    private final int end;
    private final int maxArrayLength;
    private int pos;

    private Json(byte[] in, int start, int end, int maxArrayLength) {
        this.in = in;
        this.pos = start;
        this.end = end;
        this.maxArrayLength = maxArrayLength;
    }

    /**
     * Parses one JSON value filling {@code bytes[0, length)}, surrounded only by JSON whitespace.
     * Error offsets are relative to index 0.
     */
    static Object parse(byte[] bytes, int length, int maxArrayLength) throws ParseException {
        int bad = firstInvalidUtf8(bytes, length);
        if (bad >= 0) {
            throw new ParseException(SafetensorsFormatException.Kind.INVALID_UTF8, bad,
                    String.format("invalid UTF-8 byte 0x%02X", bytes[bad] & 0xFF));
        }
        Json p = new Json(bytes, 0, length, maxArrayLength);
        p.skipWhitespace();
        Object value = p.value(0);
        p.skipWhitespace();
        if (p.pos != p.end) {
            throw p.error("unexpected " + p.describeCurrent() + " after the end of the JSON value");
        }
        return value;
    }

    // ---------------------------------------------------------------- parsing

    private Object value(int depth) throws ParseException {
        if (pos >= end) {
            throw error("unexpected end of input, expected a value");
        }
        byte b = in[pos];
        switch (b) {
            case '{':
                return object(depth + 1);
            case '[':
                return array(depth + 1);
            case '"':
                return string();
            case 't':
                return literal("true", Boolean.TRUE);
            case 'f':
                return literal("false", Boolean.FALSE);
            case 'n':
                return literal("null", NULL);
            default:
                if (b == '-' || (b >= '0' && b <= '9')) {
                    return number();
                }
                throw error("unexpected " + describeCurrent() + ", expected a value");
        }
    }

    private Map<String, Object> object(int depth) throws ParseException {
        checkDepth(depth);
        pos++; // '{'
        Map<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return map;
        }
        while (true) {
            if (peek() != '"') {
                throw error("unexpected " + describeCurrent() + ", expected a string key");
            }
            int keyStart = pos;
            String key = string();
            skipWhitespace();
            expect(':', "after an object key");
            skipWhitespace();
            Object v = value(depth);
            if (map.put(key, v) != null) {
                throw new ParseException(SafetensorsFormatException.Kind.DUPLICATE_KEY, keyStart,
                        "duplicate key " + quote(key));
            }
            skipWhitespace();
            if (peek() == ',') {
                pos++;
                skipWhitespace();
            } else if (peek() == '}') {
                pos++;
                return map;
            } else {
                throw error("unexpected " + describeCurrent() + ", expected ',' or '}' in an object");
            }
        }
    }

    private List<Object> array(int depth) throws ParseException {
        checkDepth(depth);
        int start = pos;
        pos++; // '['
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return list;
        }
        while (true) {
            if (list.size() >= maxArrayLength) {
                throw new ParseException(SafetensorsFormatException.Kind.MALFORMED_JSON, start,
                        "array with more than " + maxArrayLength + " elements (longer than any valid file needs)");
            }
            list.add(value(depth));
            skipWhitespace();
            if (peek() == ',') {
                pos++;
                skipWhitespace();
            } else if (peek() == ']') {
                pos++;
                return list;
            } else {
                throw error("unexpected " + describeCurrent() + ", expected ',' or ']' in an array");
            }
        }
    }

    private String string() throws ParseException {
        pos++; // opening quote
        StringBuilder sb = null;
        int runStart = pos;
        while (true) {
            if (pos >= end) {
                throw error("unterminated string");
            }
            int b = in[pos] & 0xFF;
            if (b == '"') {
                String tail = new String(in, runStart, pos - runStart, StandardCharsets.UTF_8);
                pos++;
                return sb == null ? tail : sb.append(tail).toString();
            } else if (b == '\\') {
                if (sb == null) {
                    sb = new StringBuilder();
                }
                sb.append(new String(in, runStart, pos - runStart, StandardCharsets.UTF_8));
                escape(sb);
                runStart = pos;
            } else if (b < 0x20) {
                throw error(String.format("control character 0x%02X inside a string (must be escaped)", b));
            } else {
                pos++; // UTF-8 was validated up front, so multi-byte sequences pass through whole
            }
        }
    }

    private void escape(StringBuilder sb) throws ParseException {
        int escStart = pos;
        pos++; // backslash
        if (pos >= end) {
            throw error("unterminated escape sequence");
        }
        byte c = in[pos++];
        switch (c) {
            case '"': sb.append('"'); break;
            case '\\': sb.append('\\'); break;
            case '/': sb.append('/'); break;
            case 'b': sb.append('\b'); break;
            case 'f': sb.append('\f'); break;
            case 'n': sb.append('\n'); break;
            case 'r': sb.append('\r'); break;
            case 't': sb.append('\t'); break;
            case 'u': {
                char ch = hex4();
                if (Character.isHighSurrogate(ch)) {
                    if (pos + 1 < end && in[pos] == '\\' && in[pos + 1] == 'u') {
                        pos += 2;
                        char low = hex4();
                        if (!Character.isLowSurrogate(low)) {
                            throw new ParseException(SafetensorsFormatException.Kind.MALFORMED_JSON, escStart,
                                    "unpaired surrogate escape \\u" + Integer.toHexString(ch));
                        }
                        sb.append(ch).append(low);
                    } else {
                        throw new ParseException(SafetensorsFormatException.Kind.MALFORMED_JSON, escStart,
                                "unpaired surrogate escape \\u" + Integer.toHexString(ch));
                    }
                } else if (Character.isLowSurrogate(ch)) {
                    throw new ParseException(SafetensorsFormatException.Kind.MALFORMED_JSON, escStart,
                            "unpaired surrogate escape \\u" + Integer.toHexString(ch));
                } else {
                    sb.append(ch);
                }
                break;
            }
            default:
                pos--;
                throw error("invalid escape sequence \\" + describeCurrent());
        }
    }

    private char hex4() throws ParseException {
        if (end - pos < 4) {
            throw error("truncated \\u escape");
        }
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(in[pos] & 0xFF, 16);
            if (d < 0) {
                throw error("invalid hex digit " + describeCurrent() + " in a \\u escape");
            }
            v = (v << 4) | d;
            pos++;
        }
        return (char) v;
    }

    private Num number() throws ParseException {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        if (peek() == '0') {
            pos++;
            if (isDigit(peek())) {
                throw error("leading zeros are not allowed in JSON numbers");
            }
        } else if (isDigit(peek())) {
            while (isDigit(peek())) {
                pos++;
            }
        } else {
            throw error("unexpected " + describeCurrent() + " in a number, expected a digit");
        }
        if (peek() == '.') {
            pos++;
            if (!isDigit(peek())) {
                throw error("unexpected " + describeCurrent() + " after a decimal point, expected a digit");
            }
            while (isDigit(peek())) {
                pos++;
            }
        }
        if (peek() == 'e' || peek() == 'E') {
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!isDigit(peek())) {
                throw error("unexpected " + describeCurrent() + " in an exponent, expected a digit");
            }
            while (isDigit(peek())) {
                pos++;
            }
        }
        return new Num(new String(in, start, pos - start, StandardCharsets.US_ASCII));
    }

    private Object literal(String word, Object value) throws ParseException {
        for (int i = 0; i < word.length(); i++) {
            if (pos >= end || in[pos] != word.charAt(i)) {
                throw error("unexpected " + describeCurrent() + ", expected a value");
            }
            pos++;
        }
        return value;
    }

    private void checkDepth(int depth) throws ParseException {
        if (depth > MAX_DEPTH) {
            throw error("JSON nested deeper than " + MAX_DEPTH + " levels");
        }
    }

    private void expect(char c, String where) throws ParseException {
        if (peek() != c) {
            throw error("unexpected " + describeCurrent() + ", expected '" + c + "' " + where);
        }
        pos++;
    }

    private int peek() {
        return pos < end ? in[pos] & 0xFF : -1;
    }

    private static boolean isDigit(int b) {
        return b >= '0' && b <= '9';
    }

    private void skipWhitespace() {
        while (pos < end) {
            byte b = in[pos];
            if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
                pos++;
            } else {
                return;
            }
        }
    }

    private String describeCurrent() {
        if (pos >= end) {
            return "end of input";
        }
        int b = in[pos] & 0xFF;
        return b >= 0x20 && b < 0x7F ? "'" + (char) b + "'" : String.format("byte 0x%02X", b);
    }

    private ParseException error(String message) {
        return new ParseException(SafetensorsFormatException.Kind.MALFORMED_JSON, pos, message);
    }

    /**
     * A short printable excerpt of {@code bytes} around {@code offset}, for error messages.
     */
    static String excerpt(byte[] bytes, int length, long offset) {
        int from = (int) Math.max(0, Math.min(offset, length) - 20);
        int to = (int) Math.min(length, Math.max(offset, 0) + 20);
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < to; i++) {
            int b = bytes[i] & 0xFF;
            if (i == offset) {
                sb.append("\u2192"); // an arrow marks the offending position
            }
            sb.append(b >= 0x20 && b < 0x7F ? String.valueOf((char) b) : String.format("\\x%02X", b));
        }
        if (offset >= to) {
            sb.append("\u2192");
        }
        return sb.toString();
    }

    /** @return the index of the first byte that starts an invalid UTF-8 sequence, or -1 */
    static int firstInvalidUtf8(byte[] b, int length) {
        int i = 0;
        while (i < length) {
            int c = b[i] & 0xFF;
            if (c < 0x80) {
                i++;
                continue;
            }
            int need;
            int min;
            if (c >= 0xC2 && c <= 0xDF) {
                need = 1;
                min = 0x80;
            } else if (c >= 0xE0 && c <= 0xEF) {
                need = 2;
                min = 0x800;
            } else if (c >= 0xF0 && c <= 0xF4) {
                need = 3;
                min = 0x10000;
            } else {
                return i; // continuation byte, overlong C0/C1, or F5..FF
            }
            if (i + need >= length) { // sequence cut off by the end
                return i;
            }
            int cp = c & (0x3F >> need);
            for (int k = 1; k <= need; k++) {
                int cc = b[i + k] & 0xFF;
                if ((cc & 0xC0) != 0x80) {
                    return i;
                }
                cp = (cp << 6) | (cc & 0x3F);
            }
            if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                return i; // overlong, beyond Unicode, or an encoded surrogate
            }
            i += need + 1;
        }
        return -1;
    }

    // ---------------------------------------------------------------- writing

    /** @return {@code s} as a JSON string literal, escaped the way serde_json (the Python library) does */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        appendQuoted(sb, s);
        return sb.toString();
    }

    /** Appends {@code s} as a JSON string: escapes '"', '\\' and control characters, nothing else. */
    static void appendQuoted(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\b': sb.append("\\b"); break;
                case '\f': sb.append("\\f"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }

    /** @return a parsed value written back as compact JSON */
    static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object value) {
        if (value instanceof String s) {
            appendQuoted(sb, s);
        } else if (value instanceof Num n) {
            sb.append(n.text());
        } else if (value instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                appendQuoted(sb, (String) e.getKey());
                sb.append(':');
                write(sb, e.getValue());
            }
            sb.append('}');
        } else if (value instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                write(sb, l.get(i));
            }
            sb.append(']');
        } else {
            sb.append(value); // Boolean or NULL
        }
    }

    /** @return a JSON type name for error messages */
    static String typeName(Object value) {
        if (value instanceof Map) {
            return "an object";
        } else if (value instanceof List) {
            return "an array";
        } else if (value instanceof String) {
            return "a string";
        } else if (value instanceof Num) {
            return "a number";
        } else if (value instanceof Boolean) {
            return "a boolean";
        }
        return "null";
    }
}

package org.circuittracer.chat.jinja;

import java.util.ArrayList;
import java.util.List;

/** Python's {@code str} operations that chat templates call, with Python's notion of whitespace. */
public final class PythonStrings {

    private PythonStrings() {
    }

    /** Python's {@code str.isspace()} for one code point. */
    static boolean isSpace(int codePoint) {
        return Character.isWhitespace(codePoint) || Character.isSpaceChar(codePoint) || codePoint == 0x85;
    }

    /** {@code s.strip(chars)}, {@code lstrip} or {@code rstrip}; {@code chars == null} strips whitespace. */
    public static String strip(String s, String chars, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        while (left && start < end && stripped(s.codePointAt(start), chars)) {
            start += Character.charCount(s.codePointAt(start));
        }
        while (right && end > start && stripped(s.codePointBefore(end), chars)) {
            end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(start, end);
    }

    private static boolean stripped(int codePoint, String chars) {
        return chars == null ? isSpace(codePoint) : chars.codePoints().anyMatch(c -> c == codePoint);
    }

    /**
     * {@code s.split(sep, maxsplit)}: with {@code sep == null} on runs of whitespace, dropping empty pieces; otherwise on
     * every occurrence of {@code sep}, keeping empty pieces. A negative {@code maxSplit} means no limit.
     */
    static List<String> split(String s, String sep, int maxSplit) {
        if (sep != null && sep.isEmpty()) {
            throw new IllegalArgumentException("empty separator");
        }
        List<String> parts = new ArrayList<>();
        if (sep != null) {
            int from = 0;
            int at;
            while ((maxSplit < 0 || parts.size() < maxSplit) && (at = s.indexOf(sep, from)) >= 0) {
                parts.add(s.substring(from, at));
                from = at + sep.length();
            }
            parts.add(s.substring(from));
            return parts;
        }
        int i = 0;
        while (true) {
            while (i < s.length() && isSpace(s.codePointAt(i))) {
                i += Character.charCount(s.codePointAt(i));
            }
            if (i >= s.length()) {
                return parts;
            }
            if (maxSplit >= 0 && parts.size() == maxSplit) {
                parts.add(strip(s.substring(i), null, false, true));
                return parts;
            }
            int start = i;
            while (i < s.length() && !isSpace(s.codePointAt(i))) {
                i += Character.charCount(s.codePointAt(i));
            }
            parts.add(s.substring(start, i));
        }
    }
}

package org.circuittracer.testkit.fuzz;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The mutations of {@link Fuzzer}: one to three per case, each chosen by the case's random generator. Text
 * mutations work on the input read as ISO-8859-1 (one char per byte, so binary formats with text inside, such as
 * a {@code .npy} header, are mutated in place and every other byte survives).
 */
public final class Mutations {

    /** A mutated input and the names of the mutations that made it. */
    public record Mutated(byte[] bytes, List<String> mutations) {
    }

    /** Numbers that break parsers: zero, negatives, int and long boundaries, NaN, overflowing doubles. */
    static final String[] NUMBERS = {"0", "-1", "1", "2", "-0", "0.5", "1.5", "-2147483648", "2147483647",
        "2147483648", "4294967296", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
        "99999999999999999999999999", "1e309", "-1e309", "1e-400", "NaN", ".nan", "Infinity", "-Infinity", ".inf",
        "1e18", "65536", "0x10", "1_000", "00", "1.", "1e", "--1"};
    /** Strings that break parsers: empty, blank, paths that escape, control characters, odd Unicode, long. */
    static final String[] STRINGS = {"", " ", "a", "null", "true", "~", "../outside.txt", "../../escape",
        "/etc/passwd", "C:\\\\x", "\\u0000", "\\ud800", "\u00e9\u4e2d\ud83d\ude00", "\t", "x\\ny", "%s%n",
        "${x}", "*a", "&a", "!!binary", "[", "{", "}", "]", ":", "-", "#", "'", "\\\"", "hf://", "file:///x",
        "layer_-1", "layer_99999999999", "a".repeat(10_000)};
    /** Values of any JSON/YAML type, to swap a value's type. */
    static final String[] VALUES = {"null", "true", "false", "[]", "{}", "[1,2]", "{\"a\":1}", "\"\"", "\"x\"",
        "0", "-1", "1e309", "[[[]]]", "[null]"};

    private static final Pattern NUMBER = Pattern.compile("-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?");
    private static final Pattern QUOTED = Pattern.compile("\"[^\"\\\\\\n]*+(?:\\\\.[^\"\\\\\\n]*+)*+\"|'[^'\\n]*+'");
    private static final Pattern WORD = Pattern.compile("[A-Za-z_][A-Za-z0-9_./-]*");
    private static final Pattern JSON_KEY = Pattern.compile("\"[^\"\\\\\\n]*+(?:\\\\.[^\"\\\\\\n]*+)*+\"\\s*:");
    private static final Pattern YAML_KEY_LINE = Pattern.compile("(?m)^[ \\t-]*[A-Za-z_][A-Za-z0-9_.-]*:.*$");
    private static final Pattern VALUE_START = Pattern.compile(":\\s*|\\[|,|=");
    private static final int OPERATIONS = 16;

    private final List<byte[]> seeds;
    private final boolean text;
    private final String[] strings;

    Mutations(List<byte[]> seeds, boolean text, List<String> extraStrings) {
        this.seeds = seeds;
        this.text = text;
        List<String> all = new ArrayList<>(Arrays.asList(STRINGS));
        all.addAll(extraStrings);
        this.strings = all.toArray(String[]::new);
    }

    Mutated mutate(SplittableRandom r) {
        byte[] in = seeds.get(r.nextInt(seeds.size()));
        List<String> names = new ArrayList<>();
        int rounds = r.nextInt(10) == 0 ? 0 : 1 + (r.nextInt(4) == 0 ? 1 + r.nextInt(2) : 0);
        if (rounds == 0) {
            names.add("none");
        }
        for (int i = 0; i < rounds; i++) {
            int op = r.nextInt(OPERATIONS);
            if (!text && (op == 10 || op == 11 || op == 12)) {
                op = 13 + r.nextInt(3); // binary: more numeric and byte-level mutations instead
            }
            String[] name = {""};
            in = apply(in, op, r, name);
            names.add(name[0]);
        }
        return new Mutated(in, List.copyOf(names));
    }

    private byte[] apply(byte[] in, int op, SplittableRandom r, String[] name) {
        switch (op) {
            case 0 -> {
                name[0] = "flip bits";
                byte[] out = in.clone();
                for (int k = 1 + r.nextInt(3); k > 0 && out.length > 0; k--) {
                    out[r.nextInt(out.length)] ^= (byte) (1 << r.nextInt(8));
                }
                return out;
            }
            case 1 -> {
                name[0] = "overwrite byte";
                if (in.length == 0) {
                    return in;
                }
                byte[] out = in.clone();
                byte[] chars = "{}[]\"',:0123456789-.eE \n\t\\#&*!|>\u00ff\u0000".getBytes(StandardCharsets.ISO_8859_1);
                out[r.nextInt(out.length)] = r.nextBoolean() ? chars[r.nextInt(chars.length)] : (byte) r.nextInt(256);
                return out;
            }
            case 2 -> {
                name[0] = "insert or delete bytes";
                int at = r.nextInt(in.length + 1);
                if (r.nextBoolean()) {
                    byte[] junk = new byte[1 + r.nextInt(8)];
                    r.nextBytes(junk);
                    return splice(in, at, 0, junk);
                }
                return splice(in, at, Math.min(in.length - at, 1 + r.nextInt(16)), new byte[0]);
            }
            case 3 -> {
                name[0] = "truncate";
                return Arrays.copyOf(in, in.length == 0 ? 0 : r.nextInt(in.length));
            }
            case 4 -> {
                name[0] = "splice two seeds";
                byte[] other = seeds.get(r.nextInt(seeds.size()));
                int a = r.nextInt(in.length + 1);
                int b = r.nextInt(other.length + 1);
                byte[] out = Arrays.copyOf(in, a + other.length - b);
                System.arraycopy(other, b, out, a, other.length - b);
                return out;
            }
            case 5, 6 -> {
                name[0] = "substitute number";
                return replace(in, NUMBER, NUMBERS[r.nextInt(NUMBERS.length)], r);
            }
            case 7 -> {
                name[0] = "substitute string";
                String with = strings[r.nextInt(strings.length)];
                return r.nextBoolean() ? replace(in, QUOTED, "\"" + with + "\"", r) : replace(in, WORD, with, r);
            }
            case 8 -> {
                name[0] = "substitute value type";
                return replaceAfter(in, VALUE_START, VALUES[r.nextInt(VALUES.length)], r);
            }
            case 9 -> {
                name[0] = "huge declared size";
                if (r.nextBoolean()) {
                    return replace(in, NUMBER, r.nextBoolean() ? "2147483648" : "9223372036854775807", r);
                }
                if (in.length < 4) {
                    return in;
                }
                byte[] out = in.clone();
                ByteBuffer b = ByteBuffer.wrap(out).order(r.nextBoolean() ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
                long[] huge = {Integer.MAX_VALUE, 0xFFFF_FFFFL, Integer.MIN_VALUE, 1L << 31, Long.MAX_VALUE, -1};
                long v = huge[r.nextInt(huge.length)];
                if (in.length >= 8 && r.nextBoolean()) {
                    b.putLong(r.nextInt(in.length - 7), v);
                } else {
                    b.putInt(r.nextInt(in.length - 3), (int) v);
                }
                return out;
            }
            case 10 -> {
                name[0] = "deeper nesting";
                int depth = r.nextInt(8) == 0 ? 1_000 + r.nextInt(4_000) : 1 + r.nextInt(64);
                boolean closed = r.nextBoolean();
                String open = r.nextBoolean() ? "[" : "{\"a\":";
                String close = open.equals("[") ? "]" : "}";
                String nest = open.repeat(depth) + "1" + (closed ? close.repeat(depth) : "");
                return replaceAfter(in, VALUE_START, nest, r);
            }
            case 11 -> {
                name[0] = "duplicate key";
                String s = latin1(in);
                Matcher m = JSON_KEY.matcher(s);
                List<int[]> keys = spans(m);
                if (!keys.isEmpty()) {
                    int[] k = keys.get(r.nextInt(keys.size()));
                    String dup = s.substring(k[0], k[1]) + VALUES[r.nextInt(VALUES.length)] + ",";
                    return bytes(s.substring(0, k[0]) + dup + s.substring(k[0]));
                }
                List<int[]> lines = spans(YAML_KEY_LINE.matcher(s));
                if (lines.isEmpty()) {
                    return in;
                }
                int[] l = lines.get(r.nextInt(lines.size()));
                return bytes(s.substring(0, l[1]) + "\n" + s.substring(l[0], l[1]) + s.substring(l[1]));
            }
            case 12 -> {
                name[0] = "swap or drop lines";
                List<String> lines = new ArrayList<>(Arrays.asList(latin1(in).split("\n", -1)));
                if (lines.size() < 2) {
                    return in;
                }
                int a = r.nextInt(lines.size());
                if (r.nextBoolean()) {
                    lines.remove(a);
                } else {
                    int b = r.nextInt(lines.size());
                    String t = lines.get(a);
                    lines.set(a, lines.get(b));
                    lines.set(b, t);
                }
                return bytes(String.join("\n", lines));
            }
            case 13 -> {
                name[0] = "append junk";
                byte[] junk = new byte[1 + r.nextInt(32)];
                r.nextBytes(junk);
                return splice(in, in.length, 0, r.nextBoolean() ? junk : in);
            }
            case 14 -> {
                name[0] = "interesting integer";
                if (in.length == 0) {
                    return in;
                }
                byte[] out = in.clone();
                byte[] v = {0, (byte) 0xFF, 0x7F, (byte) 0x80, 1};
                out[r.nextInt(out.length)] = v[r.nextInt(v.length)];
                return out;
            }
            default -> {
                name[0] = "random bytes";
                byte[] out = new byte[r.nextInt(Math.max(2, Math.min(in.length, 256)))];
                r.nextBytes(out);
                return out;
            }
        }
    }

    private static byte[] replace(byte[] in, Pattern pattern, String with, SplittableRandom r) {
        String s = latin1(in);
        List<int[]> found = spans(pattern.matcher(s));
        if (found.isEmpty()) {
            return in;
        }
        int[] at = found.get(r.nextInt(found.size()));
        return bytes(s.substring(0, at[0]) + utf8AsLatin1(with) + s.substring(at[1]));
    }

    /** Replaces the value that starts after a match of {@code start} (up to the next , } ] or line end). */
    private static byte[] replaceAfter(byte[] in, Pattern start, String with, SplittableRandom r) {
        String s = latin1(in);
        List<int[]> found = spans(start.matcher(s));
        if (found.isEmpty()) {
            return in;
        }
        int from = found.get(r.nextInt(found.size()))[1];
        int to = from;
        while (to < s.length() && ",}]\n".indexOf(s.charAt(to)) < 0) {
            to++;
        }
        return bytes(s.substring(0, from) + utf8AsLatin1(with) + s.substring(to));
    }

    private static List<int[]> spans(Matcher m) {
        List<int[]> spans = new ArrayList<>();
        while (m.find() && spans.size() < 10_000) {
            spans.add(new int[] {m.start(), m.end()});
        }
        return spans;
    }

    private static byte[] splice(byte[] in, int at, int remove, byte[] insert) {
        byte[] out = new byte[in.length - remove + insert.length];
        System.arraycopy(in, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(in, at + remove, out, at + insert.length, in.length - at - remove);
        return out;
    }

    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static byte[] bytes(String latin1) {
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String utf8AsLatin1(String s) {
        return latin1(s.getBytes(StandardCharsets.UTF_8));
    }
}

package org.circuittracer.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutates valid files thousands of times (fixed seed): every attempt must either open and read every
 * tensor, or fail with SafetensorsFormatException. Any other exception or Error fails the test.
 */
class FuzzTest {

    /** Override with -Dfuzz.attempts (else -Dfuzz.cases, which -Pfuzz sets) / -Dfuzz.seed for a longer run. */
    private static final int ATTEMPTS = Integer.getInteger("fuzz.attempts", Integer.getInteger("fuzz.cases", 5_000));
    private static final long SEED = Long.getLong("fuzz.seed", 20_241_124L);
    private static final String[] NUMBERS = {"0", "1", "2", "3", "4", "7", "8", "-1", "-0", "24", "255", "65536",
        "2147483647", "2147483648", "4294967296", "9223372036854775807", "9223372036854775808",
        "18446744073709551615", "99999999999999999999", "1.5", "1e3", "0.0", "-9223372036854775808", "1E400"};
    private static final Pattern DIGITS = Pattern.compile("-?[0-9]+");
    private static final Pattern DTYPE = Pattern.compile("\"(F32|F16|BF16|F64|I64|I32|I16|I8|U8|BOOL|U16|U32|U64|"
            + "F8_E4M3|F8_E5M2|F8_E8M0|C64)\"");

    @TempDir
    Path dir;

    static List<byte[]> seeds() {
        List<byte[]> seeds = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(3);
        SafetensorsWriter all = new SafetensorsWriter().metadata("format", "pt").metadata("k", "v\u00e9");
        for (DType t : DType.values()) {
            byte[] data = new byte[2 * 3 * t.byteSize()];
            random.nextBytes(data);
            all.add("t." + t.name(), t, new long[] {2, 3}, data);
        }
        seeds.add(all.toByteArray());
        float[] m = new float[6 * 4];
        for (int i = 0; i < m.length; i++) {
            m[i] = (float) random.nextGaussian();
        }
        seeds.add(new SafetensorsWriter().order(SafetensorsWriter.Order.NAME)
                .addFloats("W_dec", DType.BF16, new long[] {6, 4}, m)
                .addFloats("W_enc", DType.F16, new long[] {4, 6}, m)
                .addFloats("b", new long[] {24}, m)
                .addLongs("ids", DType.I64, new long[] {3}, new long[] {0, 5, 1 << 20})
                .toByteArray());
        seeds.add(new SafetensorsWriter().order(SafetensorsWriter.Order.INSERTION)
                .addFloats("scalar", new long[0], new float[] {1})
                .addFloats("empty", new long[] {0, 5}, new float[0])
                .addFloats("clt", new long[] {2, 2, 2}, new float[] {1, 2, 3, 4, 5, 6, 7, 8})
                .toByteArray());
        seeds.add(new SafetensorsWriter().toByteArray());
        return seeds;
    }

    @Test
    @Timeout(value = 900, unit = TimeUnit.SECONDS) // -Pfuzz: 100,000 attempts
    void mutatedFilesOpenOrFailWithSafetensorsFormatExceptionOnly() throws Exception {
        SplittableRandom random = new SplittableRandom(SEED);
        List<byte[]> seeds = seeds();
        Map<SafetensorsFormatException.Kind, Integer> kinds = new EnumMap<>(SafetensorsFormatException.Kind.class);
        int opened = 0;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            byte[] content = seeds.get(random.nextInt(seeds.size()));
            int rounds = random.nextInt(8) == 0 ? 2 + random.nextInt(2) : 1;
            StringBuilder ops = new StringBuilder();
            for (int r = 0; r < rounds; r++) {
                int op = random.nextInt(15);
                ops.append(op).append(' ');
                content = mutate(content, op, random);
            }
            Path p = dir.resolve("fuzz" + attempt + ".safetensors");
            Files.write(p, content);
            try {
                exercise(p);
                opened++;
            } catch (SafetensorsFormatException e) {
                kinds.merge(e.kind(), 1, Integer::sum);
                assertThat(e.getMessage()).isNotBlank();
                assertThat(e.file()).isEqualTo(p);
            } catch (Throwable t) {
                fail("attempt " + attempt + " (mutations " + ops + ") threw " + t + " for file starting "
                        + Json.excerpt(content, Math.min(content.length, 400), 0), t);
            } finally {
                Files.delete(p);
            }
        }
        // the mutations must reach both outcomes and many validation rules
        assertThat(opened).isGreaterThan(ATTEMPTS / 50);
        assertThat(kinds.values().stream().mapToInt(Integer::intValue).sum()).isGreaterThan(ATTEMPTS / 2);
        assertThat(kinds.keySet()).contains(SafetensorsFormatException.Kind.HEADER_LENGTH,
                SafetensorsFormatException.Kind.MALFORMED_JSON, SafetensorsFormatException.Kind.TRUNCATED,
                SafetensorsFormatException.Kind.SIZE_MISMATCH, SafetensorsFormatException.Kind.BAD_SHAPE,
                SafetensorsFormatException.Kind.UNKNOWN_DTYPE, SafetensorsFormatException.Kind.DUPLICATE_KEY,
                SafetensorsFormatException.Kind.OVERLAPPING_OR_GAPPED_DATA, SafetensorsFormatException.Kind.BAD_OFFSETS,
                SafetensorsFormatException.Kind.INVALID_UTF8);
    }

    /** Opens the file and reads every tensor every way that applies to its dtype. */
    static void exercise(Path p) {
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            f.metadata().forEach((k, v) -> assertThat(k).isNotNull());
            long total = 0;
            for (String n : f.names()) {
                TensorInfo t = f.info(n);
                assertThat(t.byteSize()).isEqualTo(t.numel() * t.dtype().byteSize());
                total += t.byteSize();
                ByteBuffer b = f.bytes(n);
                assertThat((long) b.remaining()).isEqualTo(t.byteSize());
                if (t.dtype().isFloatingPoint()) {
                    assertThat(f.readFloats(n)).hasSize((int) t.numel());
                    assertThat((long) f.readAsFloat32Direct(n).remaining()).isEqualTo(4 * t.numel());
                    try {
                        int last = (int) Math.min(Integer.MAX_VALUE, t.rows() - 1);
                        f.gatherRows(n, new int[] {last, 0});
                        f.gatherRowSlicesDirect(n, new int[] {0}, t.rowLength() / 2, 1);
                    } catch (SafetensorsFormatException e) { // no rows, or rows too long for an array
                        assertThat(e.kind()).isIn(SafetensorsFormatException.Kind.INDEX_OUT_OF_RANGE,
                                SafetensorsFormatException.Kind.TOO_LARGE);
                    }
                } else if (t.dtype() != DType.C64) {
                    try {
                        assertThat(f.readLongs(n)).hasSize((int) t.numel());
                        f.readInts(n);
                    } catch (SafetensorsFormatException e) {
                        assertThat(e.kind()).isEqualTo(SafetensorsFormatException.Kind.UNSUPPORTED_CONVERSION);
                    }
                }
            }
            assertThat(8 + f.headerLength() + total).isEqualTo(f.fileSize());
        }
    }

    private static byte[] mutate(byte[] in, int op, SplittableRandom r) {
        if (in.length < 8) {
            return randomBytes(r, r.nextInt(40));
        }
        long n = ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        int headerEnd = (int) Math.max(8, Math.min(in.length, 8 + Math.max(0, Math.min(n, in.length))));
        switch (op) {
            case 0 -> { // flip bits in the prefix or header
                byte[] out = in.clone();
                for (int k = 1 + r.nextInt(3); k > 0; k--) {
                    int i = r.nextInt(headerEnd);
                    out[i] ^= (byte) (1 << r.nextInt(8));
                }
                return out;
            }
            case 1 -> { // overwrite a header byte with an interesting character
                byte[] out = in.clone();
                byte[] chars = "{}[]\",:0123456789-.eE \\u\u00ffx".getBytes(StandardCharsets.ISO_8859_1);
                if (headerEnd == 8) {
                    return out;
                }
                out[8 + r.nextInt(headerEnd - 8)] = r.nextBoolean()
                        ? chars[r.nextInt(chars.length)] : (byte) r.nextInt(256);
                return out;
            }
            case 2 -> { // insert a byte into the header, keeping the prefix consistent or not
                int at = 8 + r.nextInt(Math.max(1, headerEnd - 8));
                byte[] out = splice(in, at, 0, new byte[] {(byte) r.nextInt(256)});
                return r.nextBoolean() ? withLength(out, n + 1) : out;
            }
            case 3 -> { // delete header bytes
                int at = 8 + r.nextInt(Math.max(1, headerEnd - 8));
                int len = Math.min(1 + r.nextInt(4), in.length - at);
                byte[] out = splice(in, at, len, new byte[0]);
                return r.nextBoolean() ? withLength(out, n - len) : out;
            }
            case 4 -> { // truncate anywhere
                return Arrays.copyOf(in, r.nextInt(in.length + 1));
            }
            case 5 -> { // a random header length
                long[] choices = {0, 1, n - 1, n + 1, in.length - 8, in.length - 7, 100_000_000, 100_000_001,
                    Long.MAX_VALUE, -1, Long.MIN_VALUE, r.nextLong(), r.nextInt(1 << 20)};
                return withLength(in, choices[r.nextInt(choices.length)]);
            }
            case 6, 7 -> { // replace a number in the header
                return replaceToken(in, n, DIGITS, NUMBERS[r.nextInt(NUMBERS.length)], r);
            }
            case 8 -> { // replace a dtype
                DType[] all = DType.values();
                String[] odd = {"\"F4\"", "\"f32\"", "\"\"", "32", "null", "[\"F32\"]", "\"F32 \""};
                String with = r.nextInt(3) == 0 ? odd[r.nextInt(odd.length)] : "\"" + all[r.nextInt(all.length)] + "\"";
                return replaceToken(in, n, DTYPE, with, r);
            }
            case 9 -> { // a random JSON header over random data
                byte[] header = randomJson(r, 0).getBytes(StandardCharsets.UTF_8);
                return TestSupport.raw(header.length, header, randomBytes(r, r.nextInt(64)));
            }
            case 10 -> { // deep nesting, closed or not
                int depth = 1 + r.nextInt(20_000);
                String s = "{\"a\":" + "[".repeat(depth) + (r.nextBoolean() ? "]".repeat(depth) + "}" : "");
                byte[] header = s.getBytes(StandardCharsets.UTF_8);
                return TestSupport.raw(header.length, header, new byte[0]);
            }
            case 11 -> { // append junk
                return splice(in, in.length, 0, randomBytes(r, 1 + r.nextInt(16)));
            }
            case 12 -> { // duplicate the first tensor entry (or metadata) in the header
                String h = new String(in, 8, headerEnd - 8, StandardCharsets.ISO_8859_1);
                int close = h.indexOf('}');
                if (h.length() < 2 || close < 0) {
                    return in;
                }
                String entry = h.substring(1, close + 1);
                String dup = "{" + entry + "," + h.substring(1);
                byte[] header = dup.getBytes(StandardCharsets.ISO_8859_1);
                return TestSupport.raw(header.length, header, Arrays.copyOfRange(in, headerEnd, in.length));
            }
            case 13 -> { // swap two byte ranges of the data section
                byte[] out = in.clone();
                if (in.length - headerEnd > 2) {
                    int a = headerEnd + r.nextInt(in.length - headerEnd);
                    int b = headerEnd + r.nextInt(in.length - headerEnd);
                    byte t = out[a];
                    out[a] = out[b];
                    out[b] = t;
                }
                return out;
            }
            default -> { // random bytes
                return randomBytes(r, r.nextInt(64));
            }
        }
    }

    private static byte[] replaceToken(byte[] in, long n, Pattern pattern, String with, SplittableRandom r) {
        if (n < 2 || n > in.length - 8) {
            return in;
        }
        String h = new String(in, 8, (int) n, StandardCharsets.ISO_8859_1);
        List<int[]> spans = new ArrayList<>();
        Matcher m = pattern.matcher(h);
        while (m.find()) {
            spans.add(new int[] {m.start(), m.end()});
        }
        if (spans.isEmpty()) {
            return in;
        }
        int[] s = spans.get(r.nextInt(spans.size()));
        byte[] header = (h.substring(0, s[0]) + with + h.substring(s[1])).getBytes(StandardCharsets.ISO_8859_1);
        return TestSupport.raw(header.length, header, Arrays.copyOfRange(in, 8 + (int) n, in.length));
    }

    private static String randomJson(SplittableRandom r, int depth) {
        int kind = depth > 3 ? r.nextInt(4) : r.nextInt(7);
        switch (kind) {
            case 0:
                return NUMBERS[r.nextInt(NUMBERS.length)];
            case 1:
                String[] strings = {"\"F32\"", "\"I64\"", "\"\"", "\"\\u00e9\"", "\"x\\\"y\"", "\"__metadata__\""};
                return strings[r.nextInt(strings.length)];
            case 2:
                return r.nextBoolean() ? "true" : "null";
            case 3:
                return "[" + (r.nextBoolean() ? "0," + r.nextInt(64) : "") + "]";
            case 4: {
                StringBuilder sb = new StringBuilder("[");
                for (int i = r.nextInt(4); i > 0; i--) {
                    sb.append(randomJson(r, depth + 1)).append(i > 1 ? "," : "");
                }
                return sb.append(']').toString();
            }
            default: {
                String[] keys = {"dtype", "shape", "data_offsets", "__metadata__", "a", "b", "a"};
                StringBuilder sb = new StringBuilder("{");
                for (int i = r.nextInt(4); i > 0; i--) {
                    sb.append('"').append(keys[r.nextInt(keys.length)]).append("\":").append(randomJson(r, depth + 1))
                            .append(i > 1 ? "," : "");
                }
                return sb.append('}').toString();
            }
        }
    }

    private static byte[] withLength(byte[] in, long length) {
        byte[] out = in.clone();
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, length);
        return out;
    }

    private static byte[] splice(byte[] in, int at, int remove, byte[] insert) {
        byte[] out = new byte[in.length - remove + insert.length];
        System.arraycopy(in, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(in, at + remove, out, at + insert.length, in.length - at - remove);
        return out;
    }

    private static byte[] randomBytes(SplittableRandom r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }
}

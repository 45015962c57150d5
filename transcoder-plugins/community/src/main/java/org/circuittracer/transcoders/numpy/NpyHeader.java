package org.circuittracer.transcoders.numpy;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.zip.ZipException;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * The header of a {@code .npy} array (NumPy format versions 1.0, 2.0 and 3.0): the magic {@code \x93NUMPY}, the
 * version, the header length (2 bytes little-endian for 1.0, 4 bytes for 2.0 and 3.0) and a Python dict literal such as
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2304, 16384), }}, padded with spaces and a newline.
 *
 * <p>Only what transcoder weights need is accepted: little-endian float16, float32 or float64 ({@code '<f2'},
 * {@code '<f4'}, {@code '<f8'}), in C or Fortran order. Everything else is a MALFORMED_FILE error saying what was found
 * and what is read; nothing else is ever thrown for bad bytes.
 *
 * @param dtype        the element type
 * @param fortranOrder whether the data is column-major (the shape's axes reversed)
 * @param shape        the dimensions, outermost first; empty for a scalar
 * @param headerBytes  bytes before the data: magic, version, length and dict
 */
public record NpyHeader(ElementType dtype, boolean fortranOrder, long[] shape, int headerBytes) {

    /** {@code \x93NUMPY}. */
    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** Longest dict accepted for versions 2.0 and 3.0 (NumPy itself refuses more than 10,000 bytes by default). */
    static final int MAX_DICT_BYTES = 1 << 20;

    /** The element types read. */
    public enum ElementType {
        /** {@code '<f2'}: IEEE half precision. */
        F16("<f2", 2),
        /** {@code '<f4'}: IEEE single precision. */
        F32("<f4", 4),
        /** {@code '<f8'}: IEEE double precision (rounded to float when read). */
        F64("<f8", 8);

        private final String descr;
        private final int size;

        ElementType(String descr, int size) {
            this.descr = descr;
            this.size = size;
        }

        /** The NumPy type string, e.g. {@code <f4}. */
        public String descr() {
            return descr;
        }

        /** Bytes per element. */
        public int size() {
            return size;
        }
    }

    public NpyHeader {
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements (1 for a scalar). */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Bytes of data after the header. */
    public long dataBytes() {
        return numel() * dtype.size();
    }

    /**
     * Reads the header from the start of {@code in}, leaving the stream at the first data byte.
     *
     * @param where the file and entry, for messages (e.g. {@code params.npz: W_enc.npy})
     * @throws CircuitTracerException MALFORMED_FILE for anything that is not a header this reader takes, FILE_NOT_FOUND
     *                                if reading fails
     */
    public static NpyHeader read(InputStream in, String where) {
        try {
            byte[] prefix = readFully(in, 8, where, "the 8-byte prefix (magic and version)");
            if (!Arrays.equals(Arrays.copyOf(prefix, 6), MAGIC)) {
                throw malformed(where, "does not start with the .npy magic \\x93NUMPY; it is not a NumPy array");
            }
            int major = prefix[6] & 0xff;
            int minor = prefix[7] & 0xff;
            if (major < 1 || major > 3 || minor != 0) {
                throw malformed(where, "is .npy format version " + major + "." + minor + "; versions 1.0, 2.0 and 3.0 "
                        + "are read");
            }
            int lengthBytes = major == 1 ? 2 : 4;
            byte[] length = readFully(in, lengthBytes, where, "the header length");
            long dictLength = (length[0] & 0xffL) | (length[1] & 0xffL) << 8;
            if (lengthBytes == 4) {
                dictLength |= (length[2] & 0xffL) << 16 | (length[3] & 0xffL) << 24;
            }
            if (dictLength > MAX_DICT_BYTES) {
                throw malformed(where, "declares a header of " + dictLength + " bytes, more than the " + MAX_DICT_BYTES
                        + " this reader accepts; the file is corrupt");
            }
            byte[] dict = readFully(in, (int) dictLength, where, "the " + dictLength + "-byte header");
            String text = new String(dict, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            return parse(text, where, 8 + lengthBytes + (int) dictLength);
        } catch (EOFException | ZipException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, where + " is corrupt (" + e.getMessage()
                    + "); re-download or re-save the file.", e);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, where + ": cannot read: " + e, e);
        }
    }

    /** Parses the dict of a header that is {@code headerBytes} long in all. */
    static NpyHeader parse(String dict, String where, int headerBytes) {
        Map<String, Object> fields = new DictParser(dict, where).parse();
        if (!fields.keySet().equals(Set.of("descr", "fortran_order", "shape"))) {
            throw malformed(where, "has header keys " + fields.keySet() + "; a .npy header has exactly 'descr', "
                    + "'fortran_order' and 'shape'");
        }
        if (!(fields.get("descr") instanceof String descr)) {
            throw malformed(where, "has descr " + fields.get("descr") + "; only plain floating-point arrays are read "
                    + "('<f2', '<f4', '<f8'), not structured ones");
        }
        ElementType type = Arrays.stream(ElementType.values()).filter(t -> t.descr.equals(descr)).findFirst()
                .orElseThrow(() -> malformed(where, "has dtype '" + descr + "'"
                        + (descr.startsWith(">") ? ", which is big-endian; re-save it little-endian "
                        + "(arr.astype('<f4'))" : ", which this reader does not take; weights must be float16, "
                        + "float32 or float64, little-endian ('<f2', '<f4', '<f8')")));
        if (!(fields.get("fortran_order") instanceof Boolean fortran)) {
            throw malformed(where, "has fortran_order " + fields.get("fortran_order") + "; expected True or False");
        }
        if (!(fields.get("shape") instanceof long[] shape)) {
            throw malformed(where, "has shape " + fields.get("shape") + "; expected a tuple of whole numbers");
        }
        long numel = 1;
        for (long d : shape) {
            if (d < 0) {
                throw malformed(where, "has a negative dimension in shape " + Arrays.toString(shape));
            }
            try {
                numel = Math.multiplyExact(numel, d);
                Math.multiplyExact(numel, type.size());
            } catch (ArithmeticException e) {
                throw malformed(where, "has shape " + Arrays.toString(shape) + ", too large to exist");
            }
        }
        return new NpyHeader(type, fortran, shape, headerBytes);
    }

    private static byte[] readFully(InputStream in, int n, String where, String what) throws IOException {
        byte[] bytes = in.readNBytes(n);
        if (bytes.length < n) {
            throw malformed(where, "ends after " + bytes.length + " bytes of " + what + "; it is truncated");
        }
        return bytes;
    }

    static CircuitTracerException malformed(String where, String problem) {
        return new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, where + " " + problem + ".");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NpyHeader h && dtype == h.dtype && fortranOrder == h.fortranOrder
                && Arrays.equals(shape, h.shape) && headerBytes == h.headerBytes;
    }

    @Override
    public int hashCode() {
        return Objects.hash(dtype, fortranOrder, Arrays.hashCode(shape), headerBytes);
    }

    @Override
    public String toString() {
        return "NpyHeader[" + dtype.descr + (fortranOrder ? " fortran " : " ") + Arrays.toString(shape) + "]";
    }

    /**
     * The subset of Python literal syntax NumPy writes: a dict of quoted string keys whose values are strings,
     * {@code True}/{@code False} or tuples of integers (an optional Python 2 {@code L} suffix allowed).
     */
    private static final class DictParser {
        private final String text;
        private final String where;
        private int at;

        DictParser(String text, String where) {
            this.text = text;
            this.where = where;
        }

        Map<String, Object> parse() {
            Map<String, Object> fields = new LinkedHashMap<>();
            expect('{');
            while (peek() != '}') {
                String key = string();
                expect(':');
                if (fields.put(key, value()) != null) {
                    throw error("repeats the key '" + key + "'");
                }
                if (peek() != '}') {
                    expect(',');
                }
            }
            at++;
            if (peek() != 0) {
                throw error("has text after the closing brace");
            }
            return fields;
        }

        private Object value() {
            char c = peek();
            if (c == '\'' || c == '"') {
                return string();
            }
            if (c == '(') {
                return tuple();
            }
            if (text.startsWith("True", at)) {
                at += 4;
                return Boolean.TRUE;
            }
            if (text.startsWith("False", at)) {
                at += 5;
                return Boolean.FALSE;
            }
            throw error("has an unexpected value at character " + at);
        }

        private long[] tuple() {
            expect('(');
            List<Long> dims = new ArrayList<>();
            while (peek() != ')') {
                dims.add(integer());
                if (peek() != ')') {
                    expect(',');
                }
            }
            at++;
            return dims.stream().mapToLong(Long::longValue).toArray();
        }

        private long integer() {
            peek();
            int start = at;
            while (at < text.length() && Character.isDigit(text.charAt(at)) && at - start < 19) {
                at++;
            }
            if (at == start) {
                throw error("has a shape entry that is not a whole number at character " + at);
            }
            if (at < text.length() && Character.isDigit(text.charAt(at))) {
                throw error("has a dimension too large to exist");
            }
            long value;
            try {
                value = Long.parseLong(text.substring(start, at));
            } catch (NumberFormatException e) { // 19 digits above Long.MAX_VALUE
                throw error("has a dimension too large to exist");
            }
            if (at < text.length() && text.charAt(at) == 'L') {
                at++;
            }
            return value;
        }

        private String string() {
            char quote = peek();
            if (quote != '\'' && quote != '"') {
                throw error("has a key that is not a quoted string at character " + at);
            }
            int end = text.indexOf(quote, at + 1);
            if (end < 0) {
                throw error("has an unterminated string");
            }
            String value = text.substring(at + 1, end);
            at = end + 1;
            return value;
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error("expected '" + c + "' at character " + at);
            }
            at++;
        }

        /** The next non-blank character (0 at the end), without consuming it. */
        private char peek() {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
                at++;
            }
            return at < text.length() ? text.charAt(at) : 0;
        }

        private CircuitTracerException error(String problem) {
            return malformed(where, "has a malformed header (" + problem + "): " + abbreviate(text));
        }

        private static String abbreviate(String text) {
            String oneLine = text.strip().replaceAll("\\s+", " ");
            return oneLine.length() <= 120 ? oneLine : oneLine.substring(0, 117) + "...";
        }
    }
}

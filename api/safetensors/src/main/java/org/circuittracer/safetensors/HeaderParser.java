package org.circuittracer.safetensors;

import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.BAD_ENTRY;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.BAD_METADATA;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.BAD_OFFSETS;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.BAD_SHAPE;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.MALFORMED_JSON;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.OVERLAPPING_OR_GAPPED_DATA;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.SIZE_MISMATCH;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.TRUNCATED;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns header bytes into validated {@link TensorInfo}s: the JSON schema, dtype/shape/offset consistency, and
 * that the tensors exactly tile the data section (the Python library's rule: sorted by offset, each begins
 * where the previous ended, and the last ends at the end of the file).
 */
final class HeaderParser {

    /** The format's limit on the header length (the Python/Rust library's MAX_HEADER_SIZE). */
    static final long MAX_HEADER_LENGTH = 100_000_000L;
    /** More dimensions than any framework supports (NumPy allows 64). */
    static final int MAX_RANK = 64;
    /** Longest JSON array accepted; bounds memory for hostile headers (shapes have at most MAX_RANK entries). */
    private static final int MAX_ARRAY_LENGTH = 1024;
    static final String METADATA_KEY = "__metadata__";
    private static final Set<String> FIELDS = Set.of("dtype", "shape", "data_offsets");
    private static final String CORRUPT = "the file is corrupt or was written by a broken tool; re-download or re-export it";

    /** A validated header. */
    record Header(Map<String, String> metadata, List<TensorInfo> tensors, Map<String, TensorInfo> byName) {
    }

    private HeaderParser() {
    }

    /**
     * @param file       for messages
     * @param header     the N header bytes
     * @param dataLength the number of bytes after the header (file size - 8 - N)
     */
    static Header parse(Path file, byte[] header, long dataLength) {
        long dataStart = 8L + header.length;
        Object root;
        try {
            root = Json.parse(header, header.length, MAX_ARRAY_LENGTH);
        } catch (Json.ParseException e) {
            String where = " at header byte " + e.offset + " (file byte " + (8 + e.offset) + "), near \""
                    + Json.excerpt(header, header.length, e.offset) + "\"";
            String what = switch (e.kind) {
                case INVALID_UTF8 -> "the header is not valid UTF-8: " + e.getMessage();
                case DUPLICATE_KEY -> "the header has a " + e.getMessage() + "; JSON keys must be unique";
                default -> "the header is not valid JSON: " + e.getMessage();
            };
            throw new SafetensorsFormatException(e.kind, file, null, what + where + "; " + CORRUPT);
        }
        if (!(root instanceof Map<?, ?> entries)) {
            throw new SafetensorsFormatException(MALFORMED_JSON, file, null,
                    "the header must be a JSON object mapping tensor names to {dtype, shape, data_offsets}, but it is "
                            + Json.typeName(root) + "; " + CORRUPT);
        }

        Map<String, String> metadata = Map.of();
        List<TensorInfo> tensors = new ArrayList<>(entries.size());
        Map<String, TensorInfo> byName = new HashMap<>();
        for (Map.Entry<?, ?> e : entries.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = metadata(file, e.getValue());
            } else {
                TensorInfo t = tensor(file, name, e.getValue(), dataStart);
                tensors.add(t);
                byName.put(name, t);
            }
        }
        checkCoverage(file, tensors, dataStart, dataLength);
        return new Header(metadata, Collections.unmodifiableList(tensors), Collections.unmodifiableMap(byName));
    }

    private static Map<String, String> metadata(Path file, Object value) {
        if (value == Json.NULL) {
            return Map.of(); // the Python library accepts "__metadata__": null
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw new SafetensorsFormatException(BAD_METADATA, file, null, "\"" + METADATA_KEY
                    + "\" must be an object of string values, but it is " + Json.typeName(value) + "; " + CORRUPT);
        }
        Map<String, String> result = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new SafetensorsFormatException(BAD_METADATA, file, null, "\"" + METADATA_KEY + "\" value for key "
                        + Json.quote((String) e.getKey()) + " is " + Json.typeName(e.getValue())
                        + ", but safetensors metadata values must be strings; " + CORRUPT);
            }
            result.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(result);
    }

    private static TensorInfo tensor(Path file, String name, Object value, long dataStart) {
        String prefix = "tensor " + Json.quote(name) + ": ";
        if (!(value instanceof Map<?, ?> fields)) {
            throw new SafetensorsFormatException(BAD_ENTRY, file, name, prefix
                    + "its header entry must be an object {\"dtype\", \"shape\", \"data_offsets\"}, but it is "
                    + Json.typeName(value) + "; " + CORRUPT);
        }
        for (Object key : fields.keySet()) {
            if (!FIELDS.contains(key)) {
                throw new SafetensorsFormatException(BAD_ENTRY, file, name, prefix + "unknown field "
                        + Json.quote((String) key) + " (allowed: \"dtype\", \"shape\", \"data_offsets\"); " + CORRUPT);
            }
        }
        for (String field : List.of("dtype", "shape", "data_offsets")) {
            if (!fields.containsKey(field)) {
                throw new SafetensorsFormatException(BAD_ENTRY, file, name,
                        prefix + "missing field \"" + field + "\"; " + CORRUPT);
            }
        }

        Object dtypeValue = fields.get("dtype");
        if (!(dtypeValue instanceof String dtypeName)) {
            throw new SafetensorsFormatException(BAD_ENTRY, file, name,
                    prefix + "\"dtype\" must be a string such as \"F32\", but it is " + Json.typeName(dtypeValue)
                            + "; " + CORRUPT);
        }
        DType dtype;
        try {
            dtype = DType.fromName(dtypeName);
        } catch (SafetensorsFormatException unknown) {
            throw new SafetensorsFormatException(unknown.kind(), file, name, prefix + unknown.getMessage()
                    + " Convert the tensor to a supported dtype before loading.");
        }

        long[] shape = shape(file, name, prefix, fields.get("shape"));
        long numel = 1;
        long nbytes;
        try {
            for (long d : shape) {
                numel = Math.multiplyExact(numel, d);
            }
            nbytes = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException overflow) {
            throw new SafetensorsFormatException(BAD_SHAPE, file, name, prefix + "shape " + Arrays.toString(shape)
                    + " with dtype " + dtype + " has more bytes than a 64-bit size can count; " + CORRUPT);
        }

        Object offsetsValue = fields.get("data_offsets");
        if (!(offsetsValue instanceof List<?> offsets) || offsets.size() != 2) {
            throw new SafetensorsFormatException(BAD_OFFSETS, file, name, prefix
                    + "\"data_offsets\" must be a list of two integers [begin, end], but it is "
                    + describeList(offsetsValue) + "; " + CORRUPT);
        }
        long begin = nonNegative(offsets.get(0));
        long end = nonNegative(offsets.get(1));
        if (begin < 0 || end < 0) {
            throw new SafetensorsFormatException(BAD_OFFSETS, file, name, prefix + "\"data_offsets\" "
                    + Json.write(offsetsValue) + " must hold two integers between 0 and 2^63-1; " + CORRUPT);
        }
        if (begin > end) {
            throw new SafetensorsFormatException(BAD_OFFSETS, file, name, prefix + "\"data_offsets\" [" + begin + ", "
                    + end + "] ends before it begins; " + CORRUPT);
        }
        if (end - begin != nbytes) {
            throw new SafetensorsFormatException(SIZE_MISMATCH, file, name, prefix + "dtype " + dtype + " and shape "
                    + Arrays.toString(shape) + " need " + nbytes + " bytes, but data_offsets [" + begin + ", " + end
                    + "] (file bytes " + fileRange(dataStart, begin, end) + ") cover " + (end - begin) + " bytes; "
                    + CORRUPT);
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] shape(Path file, String name, String prefix, Object value) {
        if (!(value instanceof List<?> dims)) {
            throw new SafetensorsFormatException(BAD_SHAPE, file, name, prefix
                    + "\"shape\" must be a list of non-negative integers, but it is " + Json.typeName(value) + "; "
                    + CORRUPT);
        }
        if (dims.size() > MAX_RANK) {
            throw new SafetensorsFormatException(BAD_SHAPE, file, name, prefix + "\"shape\" has " + dims.size()
                    + " dimensions; at most " + MAX_RANK + " are supported; " + CORRUPT);
        }
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegative(dims.get(i));
            if (shape[i] < 0) {
                throw new SafetensorsFormatException(BAD_SHAPE, file, name, prefix + "\"shape\" " + Json.write(dims)
                        + " must hold only integers between 0 and 2^63-1, but dimension " + i + " is "
                        + Json.write(dims.get(i)) + "; " + CORRUPT);
            }
        }
        return shape;
    }

    /** @return the value as a long if it is an integer literal in [0, 2^63), else -1 */
    private static long nonNegative(Object value) {
        return value instanceof Json.Num n ? n.nonNegativeLongOrMinusOne() : -1;
    }

    private static String describeList(Object value) {
        if (value instanceof List<?> l) {
            return "a list of " + l.size() + " element" + (l.size() == 1 ? "" : "s");
        }
        return Json.typeName(value);
    }

    private static String fileRange(long dataStart, long begin, long end) {
        // dataStart + end can exceed Long.MAX_VALUE for hostile offsets; say so rather than print a negative
        long b = dataStart + begin;
        long e = dataStart + end;
        return b < 0 || e < 0 ? "beyond 2^63" : "[" + b + ", " + e + ")";
    }

    private static void checkCoverage(Path file, List<TensorInfo> tensors, long dataStart, long dataLength) {
        TensorInfo last = null;
        for (TensorInfo t : tensors) {
            if (last == null || t.dataEnd() > last.dataEnd()) {
                last = t;
            }
        }
        if (last != null && last.dataEnd() > dataLength) {
            throw new SafetensorsFormatException(TRUNCATED, file, last.name(), "the file is truncated: the header says "
                    + "tensor " + Json.quote(last.name()) + " ends at data byte " + last.dataEnd() + " (file byte "
                    + fileEnd(dataStart, last.dataEnd()) + ") but the data section has only " + dataLength
                    + " bytes (the file has " + (dataStart + dataLength) + "); re-download or re-export it");
        }
        // Like the Python library: sort by offsets, then every tensor must start where the previous one ended.
        List<TensorInfo> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparingLong(TensorInfo::dataBegin).thenComparingLong(TensorInfo::dataEnd));
        long expected = 0;
        TensorInfo previous = null;
        for (TensorInfo t : sorted) {
            if (t.dataBegin() < expected) {
                throw new SafetensorsFormatException(OVERLAPPING_OR_GAPPED_DATA, file, t.name(), "tensor "
                        + Json.quote(t.name()) + " (data_offsets [" + t.dataBegin() + ", " + t.dataEnd()
                        + "]) overlaps tensor " + Json.quote(previous.name()) + " (data_offsets ["
                        + previous.dataBegin() + ", " + previous.dataEnd() + "]); " + CORRUPT);
            }
            if (t.dataBegin() > expected) {
                throw new SafetensorsFormatException(OVERLAPPING_OR_GAPPED_DATA, file, t.name(), "data bytes ["
                        + expected + ", " + t.dataBegin() + ") (file bytes [" + (dataStart + expected) + ", "
                        + (dataStart + t.dataBegin()) + ")) before tensor " + Json.quote(t.name())
                        + " belong to no tensor; the tensors must cover the data section without gaps; " + CORRUPT);
            }
            expected = t.dataEnd();
            previous = t;
        }
        if (expected < dataLength) {
            throw new SafetensorsFormatException(OVERLAPPING_OR_GAPPED_DATA, file, null, (dataLength - expected)
                    + " bytes at the end of the file (file bytes [" + (dataStart + expected) + ", "
                    + (dataStart + dataLength) + ")) belong to no tensor; the tensors must cover the data section "
                    + "exactly (was something appended to the file?); " + CORRUPT);
        }
    }

    private static String fileEnd(long dataStart, long end) {
        long e = dataStart + end;
        return e < 0 ? "beyond 2^63" : Long.toString(e);
    }
}

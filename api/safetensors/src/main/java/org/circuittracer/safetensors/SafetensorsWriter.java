package org.circuittracer.safetensors;

import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.HEADER_LENGTH;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.IO;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.NOT_FOUND;
import static org.circuittracer.safetensors.SafetensorsFormatException.Kind.TOO_LARGE;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Builds a safetensors file from named tensors and string metadata.
 *
 * <p>The header is compact JSON in the Python library's layout: {@code "__metadata__"} first (keys sorted,
 * for deterministic output), then the tensors with contiguous {@code data_offsets} in the chosen
 * {@link Order}, padded with spaces to a multiple of 8 bytes so that every tensor's data is 8-byte aligned.
 * Names and metadata strings are escaped as serde_json does (only {@code "}, {@code \} and control
 * characters), so files with the same content and order are byte-identical to the Python library's.
 *
 * <p>{@link #write(Path)} is atomic: it writes a temporary file in the target directory, syncs it, and
 * renames it over the target, so readers never see a half-written file.
 *
 * <p>Data buffers passed to {@link #add(String, DType, long[], ByteBuffer)}, and F32 float / I32 int arrays, are not
 * copied: arrays are encoded chunk by chunk and buffers read when the file is written (do not change them before),
 * so tensors of any size cost no extra memory. Not thread-safe.
 */
public final class SafetensorsWriter {

    /** The order of tensors in the header and the data section. */
    public enum Order {
        /**
         * As the Python library (safetensors 0.3 and later): by dtype, widest alignment first (in reverse
         * {@link DType} declaration order), then by name in Unicode code point order.
         */
        PYTHON,
        /** By name only, in Unicode code point order. */
        NAME,
        /** In the order the tensors were added. */
        INSERTION
    }

    private record Entry(String name, DType dtype, long[] shape, Data data) {
    }

    /** A tensor's bytes, produced when the file is written. */
    private interface Data {
        long size();

        /** Appends every byte to {@code sink}, in order. */
        void writeTo(ByteSink sink) throws IOException;
    }

    private interface ByteSink {
        void accept(ByteBuffer bytes) throws IOException;
    }

    private record BufferData(ByteBuffer bytes) implements Data {
        @Override
        public long size() {
            return bytes.remaining();
        }

        @Override
        public void writeTo(ByteSink sink) throws IOException {
            sink.accept(bytes.duplicate());
        }
    }

    /** Bytes of another file, copied when written. */
    private record FileRegionData(Path file, long offset, long size) implements Data {
        @Override
        public void writeTo(ByteSink sink) throws IOException {
            try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
                ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(size, 1 << 22));
                for (long at = 0; at < size; ) {
                    chunk.clear().limit((int) Math.min(chunk.capacity(), size - at));
                    while (chunk.hasRemaining()) {
                        if (in.read(chunk, offset + at + chunk.position()) < 0) {
                            throw new IOException("unexpected end of " + file + " at byte "
                                    + (offset + at + chunk.position()));
                        }
                    }
                    chunk.flip();
                    at += chunk.remaining();
                    sink.accept(chunk);
                }
            }
        }
    }

    /** Bytes per chunk when arrays are encoded at write time: bounded memory for arrays of any length. */
    private static final int CHUNK_ELEMENTS = 1 << 20;

    /** Puts elements {@code [from, from + n)} of an array into a little-endian buffer. */
    @FunctionalInterface
    private interface ChunkEncoder {
        void put(ByteBuffer chunk, int from, int n);
    }

    /** 4-byte little-endian elements of an array, encoded chunk by chunk when written (never a whole copy). */
    private record ArrayData(int length, ChunkEncoder encoder) implements Data {
        static ArrayData of(int[] values) {
            return new ArrayData(values.length, (chunk, from, n) -> chunk.asIntBuffer().put(values, from, n));
        }

        static ArrayData of(float[] values) {
            return new ArrayData(values.length, (chunk, from, n) -> chunk.asFloatBuffer().put(values, from, n));
        }

        @Override
        public long size() {
            return 4L * length;
        }

        @Override
        public void writeTo(ByteSink sink) throws IOException {
            ByteBuffer chunk = ByteBuffer.allocate(4 * Math.min(CHUNK_ELEMENTS, length)).order(ByteOrder.LITTLE_ENDIAN);
            for (int from = 0; from < length; from += CHUNK_ELEMENTS) {
                int n = Math.min(CHUNK_ELEMENTS, length - from);
                chunk.clear();
                encoder.put(chunk, from, n);
                chunk.limit(4 * n);
                sink.accept(chunk);
            }
        }
    }

    private final Map<String, Entry> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new TreeMap<>();
    private Order order = Order.PYTHON;

    /** Creates an empty writer (tensor order {@link Order#PYTHON}). */
    public SafetensorsWriter() {
    }

    /**
     * @param order how to order tensors in the file
     * @return this writer
     */
    public SafetensorsWriter order(Order order) {
        this.order = Objects.requireNonNull(order, "order");
        return this;
    }

    /**
     * Adds one {@code __metadata__} entry (replacing an earlier value for the key).
     *
     * @param key   the key
     * @param value the value
     * @return this writer
     */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(checkText(key, "metadata key"), checkText(value, "metadata value"));
        return this;
    }

    /**
     * Adds all entries of {@code entries} to {@code __metadata__}.
     *
     * @param entries keys and values
     * @return this writer
     */
    public SafetensorsWriter metadata(Map<String, String> entries) {
        entries.forEach(this::metadata);
        return this;
    }

    /**
     * Adds a tensor from raw little-endian bytes: the buffer's remaining bytes, which are read (not copied)
     * when the file is written.
     *
     * @param name  a unique name, not {@code "__metadata__"}
     * @param dtype the element type
     * @param shape the dimensions (non-negative); empty for a scalar
     * @param data  exactly {@code numel * dtype.byteSize()} bytes
     * @return this writer
     * @throws IllegalArgumentException for a duplicate or reserved name, a bad shape or the wrong data length
     */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, ByteBuffer data) {
        long[] dims = checkNew(name, dtype, shape);
        long bytes = byteSize(name, dtype, dims);
        if (data.remaining() != bytes) {
            throw new IllegalArgumentException("tensor " + Json.quote(name) + ": dtype " + dtype + " and shape "
                    + Arrays.toString(dims) + " need " + bytes + " bytes, but " + data.remaining() + " were given");
        }
        tensors.put(name, new Entry(name, dtype, dims, new BufferData(data.slice().asReadOnlyBuffer())));
        return this;
    }

    /** Checks a new tensor's name and dtype; returns a copy of its shape. */
    private long[] checkNew(String name, DType dtype, long[] shape) {
        checkText(name, "tensor name");
        Objects.requireNonNull(dtype, "dtype");
        if (name.equals(HeaderParser.METADATA_KEY)) {
            throw new IllegalArgumentException("\"__metadata__\" is reserved and cannot name a tensor");
        }
        if (tensors.containsKey(name)) {
            throw new IllegalArgumentException("a tensor named " + Json.quote(name) + " was already added");
        }
        return shape.clone();
    }

    /**
     * Adds a tensor whose little-endian bytes are a region of another file, copied in chunks when this file is
     * written (tensors larger than memory, e.g. a graph's edges kept on disk). The region must not change before.
     *
     * @param name   a unique name
     * @param dtype  the element type
     * @param shape  the dimensions
     * @param file   the file holding the bytes
     * @param offset where the tensor's bytes start in {@code file}
     * @return this writer
     * @throws IllegalArgumentException when {@code file} is shorter than the region
     */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, Path file, long offset) {
        long[] dims = checkNew(name, dtype, shape);
        long bytes = byteSize(name, dtype, dims);
        long length;
        try {
            length = Files.size(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("tensor " + Json.quote(name) + ": cannot read " + file + ": " + e, e);
        }
        if (offset < 0 || offset + bytes > length) {
            throw new IllegalArgumentException("tensor " + Json.quote(name) + ": " + file + " has " + length
                    + " bytes, too few for " + bytes + " bytes at offset " + offset);
        }
        tensors.put(name, new Entry(name, dtype, dims, new FileRegionData(file, offset, bytes)));
        return this;
    }

    /**
     * Adds a tensor from raw little-endian bytes (not copied).
     *
     * @param name  a unique name
     * @param dtype the element type
     * @param shape the dimensions
     * @param data  exactly {@code numel * dtype.byteSize()} bytes
     * @return this writer
     */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, byte[] data) {
        return add(name, dtype, shape, ByteBuffer.wrap(data));
    }

    /**
     * Adds a tensor of another file or checkpoint unchanged (zero-copy until written).
     *
     * @param source where the tensor is
     * @param name   its name, used in this file too
     * @return this writer
     */
    public SafetensorsWriter copy(TensorSource source, String name) {
        TensorInfo t = source.info(name);
        return add(name, t.dtype(), t.shape(), source.bytes(name));
    }

    /**
     * Adds an F32 tensor.
     *
     * @param name   a unique name
     * @param shape  the dimensions; their product must equal {@code values.length}
     * @param values the elements in row-major order
     * @return this writer
     */
    public SafetensorsWriter addFloats(String name, long[] shape, float[] values) {
        return addFloats(name, DType.F32, shape, values);
    }

    /**
     * Adds a floating-point tensor, converting each float to {@code dtype}: F32 exactly, F64 exactly, F16 and
     * BF16 rounded to nearest even (see {@link HalfFloats}).
     *
     * @param name   a unique name
     * @param dtype  F32, F64, F16 or BF16
     * @param shape  the dimensions; their product must equal {@code values.length}
     * @param values the elements in row-major order
     * @return this writer
     */
    public SafetensorsWriter addFloats(String name, DType dtype, long[] shape, float[] values) {
        if (dtype == DType.F32) {
            // encoded when written, so arrays beyond 2 GiB of bytes work and nothing is copied
            long[] dims = checkNew(name, dtype, shape);
            checkElements(name, dims, values.length);
            tensors.put(name, new Entry(name, dtype, dims, ArrayData.of(values)));
            return this;
        }
        checkCount(name, dtype, shape, values.length);
        ByteBuffer b = ByteBuffer.allocate(values.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32 -> b.asFloatBuffer().put(values);
            case F64 -> {
                for (float v : values) {
                    b.putDouble(v);
                }
            }
            case F16 -> {
                for (float v : values) {
                    b.putShort(HalfFloats.floatToF16(v));
                }
            }
            case BF16 -> {
                for (float v : values) {
                    b.putShort(HalfFloats.floatToBf16(v));
                }
            }
            default -> throw new IllegalArgumentException("addFloats converts to F32, F64, F16 or BF16, not " + dtype
                    + "; pass raw bytes to add() for other dtypes");
        }
        return add(name, dtype, shape, b.clear());
    }

    /**
     * Adds an integer or BOOL tensor, converting each long to {@code dtype}.
     *
     * @param name   a unique name
     * @param dtype  I64, I32, I16, I8, U64, U32, U16, U8 or BOOL
     * @param shape  the dimensions; their product must equal {@code values.length}
     * @param values the elements in row-major order
     * @return this writer
     * @throws IllegalArgumentException if a value does not fit in {@code dtype} (BOOL takes 0 and 1; U64 takes
     *         0..2^63-1)
     */
    public SafetensorsWriter addLongs(String name, DType dtype, long[] shape, long[] values) {
        checkCount(name, dtype, shape, values.length);
        if (!dtype.isInteger() && dtype != DType.BOOL) {
            throw new IllegalArgumentException("addLongs writes integer or BOOL dtypes, not " + dtype);
        }
        ByteBuffer b = ByteBuffer.allocate(values.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < values.length; i++) {
            long v = values[i];
            long min = switch (dtype) {
                case I8 -> Byte.MIN_VALUE;
                case I16 -> Short.MIN_VALUE;
                case I32 -> Integer.MIN_VALUE;
                case I64 -> Long.MIN_VALUE;
                default -> 0;
            };
            long max = switch (dtype) {
                case BOOL -> 1;
                case I8 -> Byte.MAX_VALUE;
                case U8 -> 0xFF;
                case I16 -> Short.MAX_VALUE;
                case U16 -> 0xFFFF;
                case I32 -> Integer.MAX_VALUE;
                case U32 -> 0xFFFF_FFFFL;
                default -> Long.MAX_VALUE;
            };
            if (v < min || v > max) {
                throw new IllegalArgumentException("tensor " + Json.quote(name) + ": element " + i + " = " + v
                        + " does not fit in " + dtype);
            }
            switch (dtype.byteSize()) {
                case 1 -> b.put((byte) v);
                case 2 -> b.putShort((short) v);
                case 4 -> b.putInt((int) v);
                default -> b.putLong(v);
            }
        }
        return add(name, dtype, shape, b.clear());
    }

    /**
     * Adds an integer or BOOL tensor from ints; see {@link #addLongs(String, DType, long[], long[])}.
     *
     * @param name   a unique name
     * @param dtype  an integer dtype or BOOL
     * @param shape  the dimensions; their product must equal {@code values.length}
     * @param values the elements in row-major order
     * @return this writer
     */
    public SafetensorsWriter addInts(String name, DType dtype, long[] shape, int[] values) {
        if (dtype == DType.I32) {
            long[] dims = checkNew(name, dtype, shape);
            checkElements(name, dims, values.length);
            tensors.put(name, new Entry(name, dtype, dims, ArrayData.of(values)));
            return this;
        }
        return addLongs(name, dtype, shape, Arrays.stream(values).asLongStream().toArray());
    }

    /**
     * The complete file as bytes (for small files and tests).
     *
     * @return the file's bytes
     * @throws SafetensorsFormatException of kind TOO_LARGE beyond 2 GiB
     */
    public byte[] toByteArray() {
        List<Entry> ordered = ordered();
        byte[] header = header(ordered, null);
        long total = 8L + header.length;
        for (Entry e : ordered) {
            total += e.data().size();
        }
        if (total > TensorReads.MAX_ARRAY) {
            throw new SafetensorsFormatException(TOO_LARGE, null, null, "the file would have " + total
                    + " bytes, too many for one Java array; use write(Path)");
        }
        ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(header.length).put(header);
        for (Entry e : ordered) {
            try {
                e.data().writeTo(out::put);
            } catch (IOException impossible) {
                throw new IllegalStateException(impossible);
            }
        }
        return out.array();
    }

    /**
     * Writes the file atomically, replacing {@code file} if it exists.
     *
     * @param file the target path; its directory must exist
     * @throws SafetensorsFormatException of kind IO or NOT_FOUND if writing fails (nothing is left behind)
     */
    public void write(Path file) {
        Path target = file.toAbsolutePath();
        List<Entry> ordered = ordered();
        byte[] header = header(ordered, target);
        Path dir = target.getParent();
        Path tmp = dir.resolve("." + target.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                writeFully(ch, prefix);
                writeFully(ch, ByteBuffer.wrap(header));
                for (Entry e : ordered) {
                    e.data().writeTo(bytes -> writeFully(ch, bytes));
                }
                ch.force(true); // the data must be durable before the rename makes it visible
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } catch (NoSuchFileException e) {
            throw new SafetensorsFormatException(NOT_FOUND, target, null, "cannot write: directory " + dir
                    + " does not exist; create it first", e);
        } catch (IOException | RuntimeException e) {
            throw new SafetensorsFormatException(IO, target, null, "cannot write the file: " + e, e);
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort; the original error matters more
                }
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private List<Entry> ordered() {
        List<Entry> list = new ArrayList<>(tensors.values());
        Comparator<Entry> byName = (a, b) -> compareCodePoints(a.name(), b.name());
        switch (order) {
            case PYTHON -> list.sort(Comparator.comparing(Entry::dtype).reversed().thenComparing(byName));
            case NAME -> list.sort(byName);
            case INSERTION -> { }
        }
        return list;
    }

    private byte[] header(List<Entry> ordered, Path file) {
        StringBuilder sb = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            sb.append("\"__metadata__\":{");
            boolean first = true;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                Json.appendQuoted(sb, e.getKey());
                sb.append(':');
                Json.appendQuoted(sb, e.getValue());
            }
            sb.append('}');
        }
        long offset = 0;
        for (Entry e : ordered) {
            if (sb.length() > 1) {
                sb.append(',');
            }
            Json.appendQuoted(sb, e.name());
            sb.append(":{\"dtype\":\"").append(e.dtype().safetensorsName()).append("\",\"shape\":[");
            for (int i = 0; i < e.shape().length; i++) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(e.shape()[i]);
            }
            long end = offset + e.data().size();
            sb.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        sb.append('}');
        byte[] json = sb.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // the Python library pads so tensor data is 8-byte aligned
        if (padded > HeaderParser.MAX_HEADER_LENGTH) {
            throw new SafetensorsFormatException(HEADER_LENGTH, file, null, "the header would be " + padded
                    + " bytes, above the format's limit of " + HeaderParser.MAX_HEADER_LENGTH
                    + "; split the tensors over several files");
        }
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static long byteSize(String name, DType dtype, long[] shape) {
        long n = 1;
        try {
            for (long d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("tensor " + Json.quote(name) + ": negative dimension in shape "
                            + Arrays.toString(shape));
                }
                n = Math.multiplyExact(n, d);
            }
            return Math.multiplyExact(n, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("tensor " + Json.quote(name) + ": shape " + Arrays.toString(shape)
                    + " is too large", e);
        }
    }

    private static void checkElements(String name, long[] shape, int count) {
        long elements = byteSize(name, DType.U8, shape);
        if (elements != count) {
            throw new IllegalArgumentException("tensor " + Json.quote(name) + ": shape " + Arrays.toString(shape)
                    + " has " + elements + " elements, but " + count + " values were given");
        }
    }

    private static void checkCount(String name, DType dtype, long[] shape, int count) {
        long bytes = byteSize(name, dtype, shape);
        if (bytes / dtype.byteSize() != count) {
            throw new IllegalArgumentException("tensor " + Json.quote(name) + ": shape " + Arrays.toString(shape)
                    + " has " + bytes / dtype.byteSize() + " elements, but " + count + " values were given");
        }
        if (bytes > TensorReads.MAX_ARRAY) {
            throw new IllegalArgumentException("tensor " + Json.quote(name) + ": " + bytes
                    + " bytes do not fit in one buffer; pass raw bytes in a ByteBuffer");
        }
    }

    /** Rejects strings that cannot be encoded as UTF-8 (lone surrogates would silently become '?'). */
    private static String checkText(String s, String what) {
        Objects.requireNonNull(s, what);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(what + " " + Json.quote(s) + " contains a lone surrogate");
            }
        }
        return s;
    }

    /** Compares by Unicode code point, which is UTF-8 byte order, as the Rust library sorts names. */
    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }
}

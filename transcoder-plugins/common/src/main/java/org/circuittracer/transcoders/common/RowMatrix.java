package org.circuittracer.transcoders.common;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.TensorInfo;
import org.circuittracer.safetensors.TensorSource;

/**
 * A matrix {@code [rows, cols]} stored in a safetensors tensor, read whole, a few rows or columns at a time, or in
 * blocks of consecutive rows or columns, always as float32 (F16/BF16 are widened in Java: DJL's PyTorch engine aborts
 * on BF16).
 *
 * <p><b>Size.</b> {@link #load} needs the whole matrix in one buffer, so it is limited to matrices of at most
 * 2<sup>31</sup> − 1 bytes as float32 ({@link #fitsOneBuffer()}); the other reads take any matrix the file holds (the
 * safetensors reader maps a large tensor in several windows). Encoders are read in blocks ({@link #rowBlock},
 * {@link #columnBlock}), so encoding works for encoders of any size.
 *
 * <p>The tensor {@code [d0, d1, ..., dk]} is viewed as {@code d0} rows of {@code d1·…·dk} elements; the matrix is the
 * column block {@code [colStart, colStart + cols)} of every row. A cross-layer decoder {@code W_dec_i [F, L−i, d]}
 * gives one matrix {@code [F, d]} per output layer {@code i + k} with {@code colStart = k·d}.
 *
 * @param source   the open file
 * @param tensor   the tensor's name
 * @param rows     {@code d0}
 * @param colStart first column of the block
 * @param cols     width of the block
 */
public record RowMatrix(TensorSource source, String tensor, int rows, long colStart, int cols) {

    /** The whole tensor as a matrix {@code [d0, d1·…·dk]}. */
    public static RowMatrix of(TensorSource source, String tensor) {
        TensorInfo info = source.info(tensor);
        return new RowMatrix(source, tensor, Math.toIntExact(info.rows()), 0, Math.toIntExact(info.rowLength()));
    }

    /** Columns {@code [colStart, colStart + cols)} of every row of the tensor. */
    public static RowMatrix columns(TensorSource source, String tensor, long colStart, int cols) {
        return new RowMatrix(source, tensor, Math.toIntExact(source.info(tensor).rows()), colStart, cols);
    }

    /** The rows {@code ids} (any order, repeats allowed): {@code [n, cols]}, reading only those rows' bytes. */
    public NDArray gather(NDManager manager, int[] ids) {
        if (ids.length == 0) {
            return manager.zeros(new Shape(0, cols), DataType.FLOAT32);
        }
        ByteBuffer rowsF32 = isBf16() && inRange(ids) ? gatherBf16(ids)
                : source.gatherRowSlicesDirect(tensor, ids, colStart, cols);
        return manager.create(rowsF32, new Shape(ids.length, cols), DataType.FLOAT32);
    }

    /**
     * The columns {@code ids} (any order, repeats allowed) as rows: {@code [n, rows]}, row {@code i} = column
     * {@code ids[i]}, reading per row of the matrix only the spans that hold requested columns. For an encoder stored
     * transposed, {@code W_encᵀ [d, F]}, these are the encoder rows of the features {@code ids}.
     */
    public NDArray gatherColumns(NDManager manager, int[] ids) {
        for (int id : ids) {
            if (id < 0 || id >= cols) {
                throw new IndexOutOfBoundsException("column " + id + " of " + describe() + ": valid columns are 0.."
                        + (cols - 1));
            }
        }
        int[] order = IntStream.range(0, ids.length).boxed().sorted((i, j) -> Integer.compare(ids[i], ids[j]))
                .mapToInt(Integer::intValue).toArray();
        float[] out = new float[Math.multiplyExact(ids.length, rows)];
        int[] allRows = IntStream.range(0, rows).toArray();
        int run = 0;
        while (run < order.length) {
            // a run: columns at most GATHER_GAP apart, spanning at most GATHER_SPAN columns, read together
            int first = ids[order[run]];
            int end = run + 1;
            while (end < order.length && ids[order[end]] - ids[order[end - 1]] <= GATHER_GAP
                    && ids[order[end]] - first < GATHER_SPAN) {
                end++;
            }
            int span = ids[order[end - 1]] - first + 1;
            int rowsPerRead = Math.max(1, Math.min(rows, GATHER_SPAN / span));
            for (int r0 = 0; r0 < rows; r0 += rowsPerRead) {
                int n = Math.min(rowsPerRead, rows - r0);
                float[] part = source.gatherRowSlices(tensor, Arrays.copyOfRange(allRows, r0, r0 + n),
                        colStart + first, span);
                for (int k = run; k < end; k++) {
                    int i = order[k];
                    int column = ids[i] - first;
                    for (int r = 0; r < n; r++) {
                        out[i * rows + r0 + r] = part[r * span + column];
                    }
                }
            }
            run = end;
        }
        return manager.create(out, new Shape(ids.length, rows));
    }

    /**
     * Rows {@code [first, first + count)}: {@code [count, cols]}. For an F32 tensor whose rows are the matrix's
     * rows (no column block) this is a zero-copy view of the memory-mapped file (never modify it in place); otherwise a
     * float32 copy in a new direct buffer.
     */
    public NDArray rowBlock(NDManager manager, int first, int count) {
        return rowBlock(manager, first, count, null);
    }

    /** {@link #rowBlock(NDManager, int, int)}, copying (if a copy is needed) into {@code scratch} when given. */
    NDArray rowBlock(NDManager manager, int first, int count, ByteBuffer scratch) {
        checkRange(first, count, rows, "rows");
        Shape shape = new Shape(count, cols);
        if (isMappedRows()) {
            long rowBytes = (long) cols * Float.BYTES;
            return manager.create(source.bytes(tensor, first * rowBytes, count * rowBytes), shape, DataType.FLOAT32);
        }
        ByteBuffer out = buffer(scratch, (long) count * cols);
        copySlices(first, count, colStart, cols, out);
        return manager.create(out, shape, DataType.FLOAT32);
    }

    /**
     * Columns {@code [first, first + count)} of every row: {@code [rows, count]}, a float32 copy in a new direct
     * buffer (the columns of a row-major tensor are not contiguous). For an encoder stored transposed,
     * {@code W_encᵀ [d, F]}, this is the block of features {@code [first, first + count)}.
     */
    public NDArray columnBlock(NDManager manager, int first, int count) {
        return columnBlock(manager, first, count, null);
    }

    /** {@link #columnBlock(NDManager, int, int)}, copying into {@code scratch} when given. */
    NDArray columnBlock(NDManager manager, int first, int count, ByteBuffer scratch) {
        checkRange(first, count, cols, "columns");
        ByteBuffer out = buffer(scratch, (long) rows * count);
        copySlices(0, rows, colStart + first, count, out);
        return manager.create(out, new Shape(rows, count), DataType.FLOAT32);
    }

    /**
     * Elements {@code [column, column + length)} of the tensor rows {@code [first, first + count)} into {@code out}
     * as float32, row after row: F32 bytes copied as they are (a bulk copy per row), other dtypes converted.
     */
    private void copySlices(int first, int count, long column, int length, ByteBuffer out) {
        TensorInfo info = source.info(tensor);
        if (info.dtype() == DType.BF16) {
            ByteBuffer target = out.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            try (Bf16Rows rows = new Bf16Rows(length)) {
                for (int r = first; r < first + count; r++) {
                    rows.widen(r * info.rowLength() + column, target);
                }
            }
            return;
        }
        if (info.dtype() != DType.F32) {
            source.gatherRowSlices(tensor, IntStream.range(first, first + count).toArray(), column, length,
                    out.asFloatBuffer());
            return;
        }
        long rowLength = info.rowLength();
        ByteBuffer target = out.duplicate();
        for (int r = first; r < first + count; r++) {
            target.put(source.bytes(tensor, (r * rowLength + column) * Float.BYTES, (long) length * Float.BYTES));
        }
    }

    private boolean isBf16() {
        return source.info(tensor).dtype() == DType.BF16;
    }

    /** Whether every id is a row (otherwise the general path reports the bad one). */
    private boolean inRange(int[] ids) {
        for (int id : ids) {
            if (id < 0 || id >= rows) {
                return false;
            }
        }
        return true;
    }

    /**
     * The rows {@code ids} of a BF16 tensor widened in bulk ({@code bits << 16}, exactly what the per-element
     * conversion of the safetensors reader gives, several times faster): decoders of bf16 sets are gathered per batch.
     */
    private ByteBuffer gatherBf16(int[] ids) {
        long rowLength = source.info(tensor).rowLength();
        ByteBuffer out = ByteBuffer.allocateDirect(Math.toIntExact((long) ids.length * cols * Float.BYTES))
                .order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer target = out.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        try (Bf16Rows widen = new Bf16Rows(cols)) {
            for (int id : ids) {
                widen.widen(id * rowLength + colStart, target);
            }
        }
        return out;
    }

    /**
     * Widens spans of a BF16 tensor through arrays (which the JIT vectorises), appending float32 bits to a buffer.
     * From a single safetensors file the bytes are read with positional reads rather than through the mapping:
     * widening copies them anyway, and pages touched through a mapping count in the process's resident set (with
     * the kernel's fault-around, gathering scattered decoder rows makes nearly the whole decoder resident: 1.7 GB of
     * gemma2-2b-shape's 2 GB); read, they stay in the page cache only.
     */
    private final class Bf16Rows implements AutoCloseable {
        private final short[] bits;
        private final int[] widened;
        private final ByteBuffer read;
        private final FileChannel channel;
        private final long tensorStart;

        Bf16Rows(int length) {
            bits = new short[length];
            widened = new int[length];
            read = ByteBuffer.allocate(length * 2).order(ByteOrder.LITTLE_ENDIAN);
            FileChannel opened = null;
            long start = 0;
            if (source instanceof SafetensorsFile file) {
                try {
                    opened = FileChannel.open(file.path(), StandardOpenOption.READ);
                    start = file.dataOffset() + file.info(tensor).dataBegin();
                } catch (IOException e) {
                    opened = null; // read through the mapping instead
                }
            }
            channel = opened;
            tensorStart = start;
        }

        /** Widens {@code bits.length} values from element {@code element} of the tensor, appended to {@code target}. */
        void widen(long element, ByteBuffer target) {
            int n = bits.length;
            ByteBuffer row = channel != null ? readAt(tensorStart + element * 2)
                    : source.bytes(tensor, element * 2, (long) n * 2).order(ByteOrder.LITTLE_ENDIAN);
            row.asShortBuffer().get(bits, 0, n);
            for (int i = 0; i < n; i++) {
                widened[i] = bits[i] << 16;
            }
            target.asIntBuffer().put(widened, 0, n);
            target.position(target.position() + n * Float.BYTES);
        }

        private ByteBuffer readAt(long position) {
            read.clear();
            try {
                while (read.hasRemaining()) {
                    if (channel.read(read, position + read.position()) < 0) {
                        throw new EOFException("end of file at " + (position + read.position()));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + describe(), e);
            }
            return read.flip();
        }

        @Override
        public void close() {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException e) {
                    // read-only: nothing to lose
                }
            }
        }
    }

    /** Whether the matrix as float32 fits in one buffer (at most 2<sup>31</sup> − 1 bytes), as {@link #load} needs. */
    public boolean fitsOneBuffer() {
        return (long) rows * cols * Float.BYTES <= Integer.MAX_VALUE;
    }

    /** The dtype of the stored tensor. */
    public DType dtype() {
        return source.info(tensor).dtype();
    }

    /** Whether the matrix is a whole F32 tensor's rows, so that blocks of rows are views of the mapped file. */
    boolean isMappedRows() {
        TensorInfo info = source.info(tensor);
        return info.dtype() == DType.F32 && colStart == 0 && cols == info.rowLength();
    }

    /**
     * The whole matrix {@code [rows, cols]}, at most 2<sup>31</sup> − 1 bytes as float32 ({@link #fitsOneBuffer()});
     * read larger matrices in blocks. An F32 tensor read whole is a zero-copy view of the memory-mapped file: never
     * modify it in place (the mapping is read-only).
     */
    public NDArray load(NDManager manager) {
        TensorInfo info = source.info(tensor);
        if (colStart == 0 && cols == info.rowLength()) {
            return manager.create(source.readAsFloat32Direct(tensor), new Shape(rows, cols), DataType.FLOAT32);
        }
        return gather(manager, IntStream.range(0, rows).toArray());
    }

    /** Columns gathered together per read when they are at most this far apart. */
    private static final int GATHER_GAP = 256;
    /** The most elements one read of {@link #gatherColumns} returns. */
    private static final int GATHER_SPAN = 1 << 16;

    private void checkRange(int first, int count, int size, String what) {
        if (first < 0 || count < 0 || first > size - count) {
            throw new IndexOutOfBoundsException(what + " [" + first + ", " + ((long) first + count) + ") of "
                    + describe() + ": it has " + size + " " + what);
        }
    }

    /** A little-endian direct buffer of exactly {@code floats} floats: {@code scratch} (if given) or a new one. */
    private static ByteBuffer buffer(ByteBuffer scratch, long floats) {
        int bytes = Math.toIntExact(floats * Float.BYTES);
        if (scratch == null) {
            return ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }
        return scratch.clear().limit(bytes).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** {@code file: tensor [shape]} for messages. */
    public String describe() {
        TensorInfo info = source.info(tensor);
        String block = colStart == 0 && cols == info.rowLength() ? ""
                : " (columns " + colStart + ".." + (colStart + cols - 1) + " of each row)";
        return source.fileOf(tensor).getFileName() + ": " + tensor + " " + info.shapeString() + block;
    }
}

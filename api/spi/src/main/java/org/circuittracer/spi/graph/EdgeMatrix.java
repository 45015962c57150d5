package org.circuittracer.spi.graph;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Objects;
import org.circuittracer.spi.CircuitTracerException;
import org.osgi.annotation.versioning.ConsumerType;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A sparse square matrix in compressed-sparse-row form: row {@code r}'s entries are
 * {@code columns[rowStart[r] … rowStart[r+1])} with {@code weights} at the same indices, columns ascending within a
 * row. Entries not stored are zero. Immutable.
 *
 * <p>The entries live either in Java arrays or, for graphs too large for the heap (every feature of a long prompt:
 * hundreds of millions of edges), in a file: {@link #onDisk} reads them from two little-endian regions (I32 columns,
 * F32 weights) on every pass instead of holding them. Code that must work on both walks the rows with
 * {@link #forEachRow(RowVisitor)}, which never copies an in-memory matrix and reads a file-backed one in bounded
 * blocks; the array accessors ({@link #columns()}, …) return copies and so materialise a file-backed matrix.
 */
public record EdgeMatrix(int size, int[] rowStart, Entries entries) {

    /** Entries read per block when walking a file-backed matrix (8 MiB of columns and weights). */
    static final int BLOCK_ENTRIES = 1 << 20;
    private static final Cleaner CLEANER = Cleaner.create();

    /** Where the stored entries are. */
    @ProviderType
    public sealed interface Entries permits InMemory, OnDisk {
    }

    /**
     * Entries in Java arrays, {@code [nnz]} each. Held, not copied: never change them.
     *
     * @param columns column indices, ascending within each row
     * @param weights values
     */
    public record InMemory(int[] columns, float[] weights) implements Entries {
        public InMemory {
            Objects.requireNonNull(columns, "columns");
            Objects.requireNonNull(weights, "weights");
            if (columns.length != weights.length) {
                throw CircuitTracerException.invalidArgument("inconsistent CSR arrays: columns " + columns.length
                        + ", weights " + weights.length);
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof InMemory that && Arrays.equals(columns, that.columns)
                    && Arrays.equals(weights, that.weights);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(columns) + Arrays.hashCode(weights);
        }

        @Override
        public String toString() {
            return "InMemory[entries=" + columns.length + "]";
        }
    }

    /**
     * Entries in a file: {@code nnz} little-endian I32 column indices from {@code columnsOffset} and as many
     * little-endian F32 weights from {@code weightsOffset} (a safetensors file's two data regions qualify).
     */
    public record OnDisk(Path file, long columnsOffset, long weightsOffset) implements Entries {
        public OnDisk {
            Objects.requireNonNull(file, "file");
            if (columnsOffset < 0 || weightsOffset < 0) {
                throw CircuitTracerException.invalidArgument("negative offsets " + columnsOffset + ", " + weightsOffset);
            }
        }
    }

    /** Receives one row at a time; see {@link #forEachRow(RowVisitor)}. */
    @FunctionalInterface
    @ConsumerType
    public interface RowVisitor {
        /**
         * Row {@code target}'s stored entries are {@code columns[from … to)} and {@code weights[from … to)}; the first
         * one is entry {@link #rowOffset(int) rowOffset(target)} of the matrix. The arrays are lent for the call only:
         * read them, never change or keep them.
         */
        void row(int target, int[] columns, float[] weights, int from, int to);
    }

    /**
     * A matrix over copies of the given arrays (they are validated and copied, so the caller may reuse them).
     *
     * @param size     the number of rows and columns (nodes)
     * @param rowStart {@code [size + 1]} offsets into {@code columns}/{@code weights}
     * @param columns  {@code [nnz]} column indices
     * @param weights  {@code [nnz]} values
     * @throws CircuitTracerException INVALID_ARGUMENT for inconsistent arrays
     */
    public EdgeMatrix(int size, int[] rowStart, int[] columns, float[] weights) {
        this(size, rowStart.clone(), new InMemory(columns.clone(), weights.clone()));
    }

    /**
     * The canonical constructor holds the arrays it is given (use {@link #adopt} or {@link #onDisk}); it checks the
     * offsets and, for entries in memory, the columns.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT for inconsistent arrays
     */
    public EdgeMatrix {
        Objects.requireNonNull(rowStart, "rowStart");
        Objects.requireNonNull(entries, "entries");
        long nnz = entries instanceof InMemory m ? m.columns().length
                : size >= 0 && rowStart.length == size + 1 ? rowStart[size] : -1;
        checkOffsets(size, rowStart, nnz);
        if (entries instanceof InMemory m) {
            for (int r = 0; r < size; r++) {
                checkColumns(r, size, m.columns(), rowStart[r], rowStart[r + 1]);
            }
        }
    }

    /**
     * A matrix that takes ownership of the arrays without copying them (for matrices of hundreds of millions of
     * entries, where a copy would double the memory). The caller must not use the arrays afterwards.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT for inconsistent arrays
     */
    public static EdgeMatrix adopt(int size, int[] rowStart, int[] columns, float[] weights) {
        return new EdgeMatrix(size, rowStart, new InMemory(columns, weights));
    }

    /**
     * A matrix whose entries stay in {@code file}: {@code rowStart[size]} little-endian I32 column indices from
     * {@code columnsOffset} and as many little-endian F32 weights from {@code weightsOffset} (a safetensors file's two
     * data regions qualify). The file must not change while the matrix is used.
     *
     * @param deleteWhenUnreachable delete the file once this matrix is garbage (and at exit): for temporary files
     *                              the matrix owns, never for a user's file
     * @param validate              read the file once to check the columns (for files from outside)
     * @throws CircuitTracerException INVALID_ARGUMENT for inconsistent offsets, a file too short or, when validating, columns out of
     *                                  range or not ascending within a row
     * @throws UncheckedIOException     when the file cannot be read
     */
    public static EdgeMatrix onDisk(int size, int[] rowStart, Path file, long columnsOffset, long weightsOffset,
                                    boolean deleteWhenUnreachable, boolean validate) {
        OnDisk region = new OnDisk(file.toAbsolutePath(), columnsOffset, weightsOffset);
        EdgeMatrix matrix = new EdgeMatrix(size, rowStart.clone(), region);
        if (deleteWhenUnreachable) {
            Path path = region.file();
            path.toFile().deleteOnExit();
            CLEANER.register(matrix, () -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException ignored) {
                    // a temporary file; the exit hook retries
                }
            });
        }
        long nnz = matrix.nonZeros();
        try {
            long length = Files.size(region.file());
            if (columnsOffset < 0 || weightsOffset < 0 || columnsOffset + 4 * nnz > length
                    || weightsOffset + 4 * nnz > length) {
                throw CircuitTracerException.invalidArgument("file " + file + " has " + length + " bytes, too few for " + nnz
                        + " entries at offsets " + columnsOffset + " and " + weightsOffset);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the edge file " + file + ": " + e.getMessage(), e);
        }
        if (validate) {
            matrix.forEachRow((target, cols, ws, from, to) -> checkColumns(target, size, cols, from, to));
        }
        return matrix;
    }

    /** Builds a matrix from a dense row-major array, keeping the non-zero entries. */
    public static EdgeMatrix fromDense(int size, float[] dense) {
        if (dense.length != (long) size * size) {
            throw CircuitTracerException.invalidArgument("dense array has " + dense.length + " entries, expected " + size + "²");
        }
        int[] rowStart = new int[size + 1];
        int nnz = 0;
        for (float v : dense) {
            nnz += v != 0 ? 1 : 0;
        }
        int[] columns = new int[nnz];
        float[] weights = new float[nnz];
        int k = 0;
        for (int r = 0; r < size; r++) {
            for (int c = 0; c < size; c++) {
                float v = dense[r * size + c];
                if (v != 0) {
                    columns[k] = c;
                    weights[k++] = v;
                }
            }
            rowStart[r + 1] = k;
        }
        return adopt(size, rowStart, columns, weights);
    }

    /** Number of stored entries. */
    public int nonZeros() {
        return rowStart[size];
    }

    /** Whether the entries are held in memory (else they are read from a file on each pass). */
    public boolean inMemory() {
        return entries instanceof InMemory;
    }

    /** The index of row {@code target}'s first stored entry (its offset in {@link #columns()}). */
    public int rowOffset(int target) {
        return rowStart[target];
    }

    /** Number of stored entries in row {@code target}. */
    public int rowSize(int target) {
        return rowStart[target + 1] - rowStart[target];
    }

    /** Every row in ascending order; see {@link RowVisitor}. */
    public void forEachRow(RowVisitor visitor) {
        forEachRow(0, size, visitor);
    }

    /** Rows {@code [fromRow, toRow)} in ascending order. In memory the visitor sees the matrix's own arrays. */
    public void forEachRow(int fromRow, int toRow, RowVisitor visitor) {
        walk(fromRow, toRow, false, visitor);
    }

    /**
     * Every row in descending order (e.g. to propagate from the last nodes backwards through a matrix that is
     * triangular in node order).
     */
    public void forEachRowDescending(RowVisitor visitor) {
        walk(0, size, true, visitor);
    }

    private void walk(int fromRow, int toRow, boolean descending, RowVisitor visitor) {
        Objects.checkFromToIndex(fromRow, toRow, size);
        if (entries instanceof InMemory m) {
            int[] columns = m.columns();
            float[] weights = m.weights();
            for (int k = fromRow; k < toRow; k++) {
                int t = descending ? toRow - 1 - (k - fromRow) : k;
                visitor.row(t, columns, weights, rowStart[t], rowStart[t + 1]);
            }
            return;
        }
        OnDisk region = (OnDisk) entries;
        try (FileChannel channel = FileChannel.open(region.file(), StandardOpenOption.READ)) {
            int capacity = 0;
            for (int t = fromRow; t < toRow; t++) {
                capacity = Math.max(capacity, Math.min(rowSize(t), Integer.MAX_VALUE / 8));
            }
            capacity = Math.max(capacity, Math.min(BLOCK_ENTRIES, rowStart[toRow] - rowStart[fromRow]));
            int[] cols = new int[capacity];
            float[] ws = new float[capacity];
            ByteBuffer buffer = ByteBuffer.allocateDirect(4 * capacity).order(ByteOrder.LITTLE_ENDIAN);
            int done = 0;
            while (done < toRow - fromRow) {
                // a block of whole rows [first, end) of at most `capacity` entries (a longer row fits alone)
                int first;
                int end;
                if (descending) {
                    end = toRow - done;
                    first = end - 1;
                    while (first > fromRow && rowStart[end] - rowStart[first - 1] <= capacity) {
                        first--;
                    }
                } else {
                    first = fromRow + done;
                    end = first + 1;
                    while (end < toRow && rowStart[end + 1] - rowStart[first] <= capacity) {
                        end++;
                    }
                }
                int count = rowStart[end] - rowStart[first];
                long entry = rowStart[first];
                read(channel, region.columnsOffset() + 4 * entry, count, buffer);
                buffer.asIntBuffer().get(cols, 0, count);
                read(channel, region.weightsOffset() + 4 * entry, count, buffer);
                buffer.asFloatBuffer().get(ws, 0, count);
                for (int k = first; k < end; k++) {
                    int r = descending ? end - 1 - (k - first) : k;
                    visitor.row(r, cols, ws, rowStart[r] - rowStart[first], rowStart[r + 1] - rowStart[first]);
                }
                done += end - first;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the edge file " + region.file() + ": " + e.getMessage(), e);
        } finally {
            // this matrix deletes a temporary file once unreachable: not before the walk over it ends
            java.lang.ref.Reference.reachabilityFence(this);
        }
    }

    private static void read(FileChannel channel, long position, int count, ByteBuffer buffer) throws IOException {
        buffer.clear().limit(4 * count);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException("unexpected end of file");
            }
        }
        buffer.flip();
    }

    /** The entry {@code A[target, source]} (0 when not stored). */
    public float get(int target, int source) {
        Row row = row(target);
        int i = Arrays.binarySearch(row.columns, 0, row.columns.length, source);
        return i >= 0 ? row.weights[i] : 0f;
    }

    /** The {@code i}-th stored column of row {@code target}. */
    public int columnAt(int target, int i) {
        Objects.checkIndex(i, rowSize(target));
        return entries instanceof InMemory m ? m.columns()[rowStart[target] + i] : row(target).columns[i];
    }

    /** The {@code i}-th stored weight of row {@code target}. */
    public float weightAt(int target, int i) {
        Objects.checkIndex(i, rowSize(target));
        return entries instanceof InMemory m ? m.weights()[rowStart[target] + i] : row(target).weights[i];
    }

    /** One row's entries, copied. */
    private record Row(int[] columns, float[] weights) {

        @Override
        public boolean equals(Object o) {
            return o instanceof Row that && Arrays.equals(columns, that.columns) && Arrays.equals(weights, that.weights);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(columns) + Arrays.hashCode(weights);
        }

        @Override
        public String toString() {
            return "Row[columns " + Arrays.toString(columns) + ", weights " + Arrays.toString(weights) + "]";
        }
    }

    private Row row(int target) {
        Objects.checkIndex(target, size);
        Row[] out = new Row[1];
        forEachRow(target, target + 1, (t, cols, ws, from, to) ->
                out[0] = new Row(Arrays.copyOfRange(cols, from, to), Arrays.copyOfRange(ws, from, to)));
        return out[0];
    }

    /** A copy of the row offsets, {@code [size + 1]}. */
    @Override
    public int[] rowStart() {
        return rowStart.clone();
    }

    /** A copy of every stored column index (read from the file when on disk). */
    public int[] columns() {
        if (entries instanceof InMemory m) {
            return m.columns().clone();
        }
        int[] out = new int[nonZeros()];
        forEachRow((t, cols, ws, from, to) -> System.arraycopy(cols, from, out, rowStart[t], to - from));
        return out;
    }

    /** A copy of every stored weight (read from the file when on disk). */
    public float[] weights() {
        if (entries instanceof InMemory m) {
            return m.weights().clone();
        }
        float[] out = new float[nonZeros()];
        forEachRow((t, cols, ws, from, to) -> System.arraycopy(ws, from, out, rowStart[t], to - from));
        return out;
    }

    private static void checkOffsets(int size, int[] rowStart, long nnz) {
        if (size < 0 || nnz < 0 || rowStart.length != size + 1 || rowStart[0] != 0 || rowStart[size] != nnz) {
            throw CircuitTracerException.invalidArgument("inconsistent CSR arrays: size " + size + ", rowStart "
                    + rowStart.length + ", entries " + nnz);
        }
        for (int r = 0; r < size; r++) {
            if (rowStart[r + 1] < rowStart[r] || rowStart[r + 1] > nnz) {
                throw CircuitTracerException.invalidArgument("rowStart must be non-decreasing and at most " + nnz
                        + " (row " + r + ")");
            }
        }
    }

    private static void checkColumns(int row, int size, int[] cols, int from, int to) {
        for (int i = from; i < to; i++) {
            if (cols[i] < 0 || cols[i] >= size || i > from && cols[i] <= cols[i - 1]) {
                throw CircuitTracerException.invalidArgument("row " + row + ": columns must be ascending within [0, " + size
                        + ")");
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        return o instanceof EdgeMatrix that && size == that.size && Arrays.equals(rowStart, that.rowStart)
                && Arrays.equals(columns(), that.columns()) && Arrays.equals(weights(), that.weights());
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(rowStart) + Arrays.hashCode(columns())) + Arrays.hashCode(weights());
    }

    @Override
    public String toString() {
        return "EdgeMatrix[size=" + size + ", nonZeros=" + nonZeros() + (inMemory() ? "" : ", on disk") + "]";
    }
}

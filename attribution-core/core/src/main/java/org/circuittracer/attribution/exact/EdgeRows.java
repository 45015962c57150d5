package org.circuittracer.attribution.exact;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.circuittracer.attribution.io.EdgeMemory;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * The rows computed so far, sparse, in computation order: logit rows first, then feature rows as they are visited.
 * Columns are in the unpruned space {@code [0, N_act + (L+1)·T)} (every active feature, then errors, then tokens);
 * rows are identified by their node in the space {@code [0, N_act + (L+1)·T + K)}.
 *
 * <p>Rows are held on the heap up to the {@link EdgeMemory} budget; beyond it the held rows are appended to a temporary
 * file (columns then weights, little-endian) and read back when visited, so every feature of a long prompt fits in
 * bounded memory. {@link #close()} deletes the file.
 */
final class EdgeRows implements AutoCloseable {

    /** Receives one row; the arrays are lent for the call only (read the first {@code length} entries). */
    @FunctionalInterface
    interface RowConsumer {
        void row(int row, int[] columns, float[] weights, int length);
    }

    private final EdgeMemory memory;
    private final List<int[]> columns = new ArrayList<>();   // null once spilled
    private final List<float[]> weights = new ArrayList<>(); // null once spilled
    private int[] nodes = new int[64];
    private int[] lengths = new int[64];
    private long[] fileOffsets = new long[64]; // where a spilled row starts in the file
    private double[] absoluteSums = new double[64];
    private long residentBytes;
    private long storedEntries;
    private int spilledRows;
    private int maxLength;
    private Path file;
    private FileChannel channel;
    private long fileEnd;  // bytes of spilled rows in the file

    EdgeRows() {
        this(EdgeMemory.fromSystem());
    }

    EdgeRows(EdgeMemory memory) {
        this.memory = memory;
    }

    void add(int node, int[] rowColumns, float[] rowWeights) {
        int r = columns.size();
        if (r == nodes.length) {
            nodes = Arrays.copyOf(nodes, r * 2);
            lengths = Arrays.copyOf(lengths, r * 2);
            fileOffsets = Arrays.copyOf(fileOffsets, r * 2);
            absoluteSums = Arrays.copyOf(absoluteSums, r * 2);
        }
        double sum = 0;
        for (float w : rowWeights) {
            sum += Math.abs(w);
        }
        nodes[r] = node;
        lengths[r] = rowColumns.length;
        absoluteSums[r] = sum;
        columns.add(rowColumns);
        weights.add(rowWeights);
        residentBytes += 8L * rowColumns.length + 64;
        storedEntries += rowColumns.length;
        maxLength = Math.max(maxLength, rowColumns.length);
        if (residentBytes > memory.budgetBytes()) {
            spill();
        }
    }

    int size() {
        return columns.size();
    }

    int node(int row) {
        return nodes[row];
    }

    /** Stored entries of the row. */
    int length(int row) {
        return lengths[row];
    }

    /** Stored entries of every row. */
    long entries() {
        return storedEntries;
    }

    /** {@code Σ |weights|} of the row. */
    double absoluteSum(int row) {
        return absoluteSums[row];
    }

    /** The row's columns when it is held on the heap (not copied: do not modify), else null (read it). */
    int[] heldColumns(int row) {
        return columns.get(row);
    }

    /** The row's weights when it is held on the heap (not copied: do not modify), else null. */
    float[] heldWeights(int row) {
        return weights.get(row);
    }

    /** Whether some rows are on disk. */
    boolean spilled() {
        return spilledRows > 0;
    }

    /** Every row in computation order. */
    void forEach(RowConsumer consumer) {
        Reader reader = new Reader();
        for (int r = 0; r < size(); r++) {
            reader.read(r, consumer);
        }
    }

    /** Reads rows in any order with reusable buffers (one per thread). */
    Reader reader() {
        return new Reader();
    }

    final class Reader {
        private int[] cols = new int[0];
        private float[] ws = new float[0];
        private ByteBuffer buffer;

        void read(int r, RowConsumer consumer) {
            int[] heldColumns = columns.get(r);
            if (heldColumns != null) {
                consumer.row(r, heldColumns, weights.get(r), lengths[r]);
                return;
            }
            int n = lengths[r];
            if (cols.length < n) {
                cols = new int[Math.max(n, maxLength)];
                ws = new float[cols.length];
                buffer = ByteBuffer.allocateDirect(8 * cols.length).order(ByteOrder.LITTLE_ENDIAN);
            }
            if (n > 0) {
                try {
                    buffer.clear().limit(8 * n);
                    while (buffer.hasRemaining()) {
                        if (channel.read(buffer, fileOffsets[r] + buffer.position()) < 0) {
                            throw new IOException("unexpected end of file");
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read computed rows back from " + file + ": "
                            + e.getMessage(), e);
                }
                buffer.flip();
                buffer.asIntBuffer().get(cols, 0, n);
                buffer.position(4 * n);
                buffer.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(ws, 0, n);
            }
            consumer.row(r, cols, ws, n);
        }
    }

    /** Appends the rows held on the heap to the file and lets them go. */
    private void spill() {
        try {
            if (channel == null) {
                file = Files.createTempFile(memory.directory(), "circuit-tracer-rows-", ".bin");
                file.toFile().deleteOnExit();
                channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            }
            RegionWriter out = new RegionWriter(channel, fileEnd);
            for (int r = 0; r < columns.size(); r++) {
                int[] cols = columns.get(r);
                if (cols == null) {
                    continue;
                }
                float[] ws = weights.get(r);
                fileOffsets[r] = out.end();
                out.putInts(cols, cols.length);
                out.putFloats(ws, ws.length);
                columns.set(r, null);
                weights.set(r, null);
                spilledRows++;
            }
            out.flush();
            fileEnd = out.end();
            residentBytes = 0;
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.OUT_OF_RESOURCES, "The computed rows outgrew the "
                    + "memory budget and could not be written to " + memory.directory() + " (" + e.getMessage()
                    + "). Free disk space there, or point -D" + EdgeMemory.DIRECTORY_PROPERTY + "=DIR elsewhere.", e);
        }
    }

    /** Deletes the file of spilled rows, if any. */
    @Override
    public void close() {
        if (channel != null) {
            try {
                channel.close();
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a temporary file, also deleted at exit
            }
            channel = null;
        }
    }
}

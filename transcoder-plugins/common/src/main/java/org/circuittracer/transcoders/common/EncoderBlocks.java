package org.circuittracer.transcoders.common;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.circuittracer.safetensors.DType;

/**
 * The encoder of one source layer as consecutive blocks of features, so that {@code h = x·W_encᵀ} can be computed
 * block by block from the memory-mapped file with no buffer holding more than one block: encoders of 2 GiB and more
 * work, and the memory of encoding does not grow with the encoder.
 *
 * <p>An F32 encoder whose tensor rows are its rows ({@code W_enc [F, d]} or {@code W_encᵀ [d, F]}, no column block)
 * and that fits one buffer (at most 2<sup>31</sup> − 1 bytes) is one block: the zero-copy view of the whole mapped
 * tensor, multiplied at once exactly as before blocking (it costs no memory, so nothing is gained by cutting it).
 * Every other encoder is cut into blocks: block {@code b} covers features {@code [b·n, min((b + 1)·n, F))}, where
 * {@code n} is the number of features whose float32 rows fill {@code blockBytes} (32 MiB by default, at most
 * 512 MiB), rounded down to a multiple of 64 when that is at least 64 (blocks of such widths give bit for bit the
 * product of the whole encoder on the engine tested, see {@code BlockedEncoderTest}). A block is used as
 * {@code W_encᵀ [d, n]}:
 * <ul>
 *   <li>{@code W_enc [F, d]} in F32 over 2 GiB: a zero-copy view of the mapped rows, transposed as a view;</li>
 *   <li>{@code W_enc [F, d]} in F16/BF16, or a column block of a wider tensor: the rows widened (copied) per block
 *       into a direct buffer;</li>
 *   <li>{@code W_encᵀ [d, F]} over 2 GiB or not F32: the block's columns of every row copied (and widened) into a
 *       direct buffer.</li>
 * </ul>
 * Each block's product is the same vectorised matrix product as for the whole encoder: every pre-activation is still
 * one dot product over {@code d}, summed in the engine's order, and the block products are copied into their columns
 * of {@code h}.
 */
final class EncoderBlocks {

    /** Bytes of float32 encoder rows per block: 32 MiB. */
    static final long DEFAULT_BLOCK_BYTES = 32L << 20;
    /** The largest block: 512 MiB, so that a block fits one buffer and one window of the file's mappings. */
    static final long MAX_BLOCK_BYTES = 1L << 29;

    private final RowMatrix stored;
    private final boolean transposed;
    private final int features;
    private final int width;
    private final int blockFeatures;
    private final int blocks;

    /**
     * @param blockBytes bytes of float32 rows per block
     * @param wholeBytes an F32 encoder of whole tensor rows up to this size is one block, the view of the tensor
     *                   (at most 2<sup>31</sup> − 1, what one buffer holds; tests lower it to cut small encoders)
     */
    EncoderBlocks(Transcoders.SourceLayer source, int width, long blockBytes, long wholeBytes) {
        if (blockBytes <= 0) {
            throw new IllegalArgumentException("block bytes " + blockBytes);
        }
        this.stored = source.encoder();
        this.transposed = source.encoderTransposed();
        this.features = source.features();
        this.width = width;
        long bytes = Math.min(blockBytes, MAX_BLOCK_BYTES);
        long perBlock = Math.max(1, bytes / ((long) Math.max(1, width) * Float.BYTES));
        if (perBlock >= 64) {
            perBlock -= perBlock % 64;
        }
        long encoderBytes = (long) features * width * Float.BYTES;
        boolean whole = stored.isMappedRows() && encoderBytes <= Math.min(wholeBytes, Integer.MAX_VALUE);
        this.blockFeatures = whole ? Math.max(1, features) : (int) Math.max(1, Math.min(features, perBlock));
        this.blocks = (int) ((features + (long) blockFeatures - 1) / blockFeatures);
    }

    /** How many blocks; 0 for an encoder without features. */
    int blocks() {
        return blocks;
    }

    /** The first feature of block {@code b}. */
    int first(int b) {
        return b * blockFeatures;
    }

    /** The number of features of block {@code b}. */
    int count(int b) {
        return Math.min(blockFeatures, features - first(b));
    }

    /** Whether blocks are copies (not views of the mapped file), so that per-call reads can share one scratch buffer. */
    boolean copies() {
        return !stored.isMappedRows() || transposed && blocks > 1;
    }

    /**
     * Whether an eager encoder keeps its blocks: views of the mapping cost nothing, and widened copies of F16/BF16 are
     * what an eager encoder holds; float32 copies of an F32 tensor (the column blocks of an F32 {@code W_encᵀ} over
     * 2 GiB, or row blocks cut from wider F32 rows) would only duplicate the mapped file in memory, so those are read
     * per call even when eager.
     */
    boolean keptWhenEager() {
        return !copies() || stored.dtype() != DType.F32;
    }

    /** A direct buffer that holds the largest block as float32, for {@link #transposedBlock}. */
    ByteBuffer scratch() {
        return ByteBuffer.allocateDirect(Math.toIntExact((long) blockFeatures * width * Float.BYTES))
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Block {@code b} as {@code W_encᵀ [d, n]} in {@code manager} (a view, or a copy in {@code scratch} when given and
     * in a new direct buffer otherwise). A copy in {@code scratch} is valid until the next call with the same scratch.
     */
    NDArray transposedBlock(NDManager manager, int b, ByteBuffer scratch) {
        if (blocks == 1 && stored.isMappedRows()) { // the whole F32 tensor, zero-copy
            NDArray whole = stored.load(manager);
            return transposed ? whole : whole.transpose();
        }
        if (transposed) {
            return stored.columnBlock(manager, first(b), count(b), scratch);
        }
        return stored.rowBlock(manager, first(b), count(b), scratch).transpose();
    }

    /**
     * The encoder rows of {@code ids} (any order, repeats allowed): {@code [n, d]} in {@code scope}, taken from the
     * eager blocks {@code kept}, or, when {@code kept} is {@code null}, gathered from the file (rows of {@code W_enc},
     * columns of {@code W_encᵀ}); the same values either way.
     */
    NDArray rows(NDManager scope, NDArray[] kept, int[] ids) {
        if (kept == null) {
            return transposed ? stored.gatherColumns(scope, ids) : stored.gather(scope, ids);
        }
        if (ids.length == 0) {
            return scope.zeros(new Shape(0, width), DataType.FLOAT32);
        }
        int[] order = java.util.stream.IntStream.range(0, ids.length).boxed()
                .sorted((i, j) -> Integer.compare(ids[i], ids[j])).mapToInt(Integer::intValue).toArray();
        NDList parts = new NDList();
        long[] where = new long[ids.length]; // where[i]: the row of ids[i] among the parts, in block order
        int k = 0;
        while (k < order.length) {
            int b = ids[order[k]] / blockFeatures;
            int end = k;
            while (end < order.length && ids[order[end]] / blockFeatures == b) {
                end++;
            }
            long[] local = new long[end - k];
            for (int j = k; j < end; j++) {
                local[j - k] = ids[order[j]] - first(b);
                where[order[j]] = j;
            }
            NDArray view = kept[b].transpose(); // [n_b, d], a view
            view.attach(scope);
            NDArray picked = view.get(scope.create(local));
            picked.attach(scope);
            parts.add(picked);
            k = end;
        }
        NDArray gathered = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
        if (parts.size() == 1 && isIdentity(where)) {
            return gathered;
        }
        NDArray result = gathered.get(scope.create(where));
        result.attach(scope);
        return result;
    }

    private static boolean isIdentity(long[] permutation) {
        for (int i = 0; i < permutation.length; i++) {
            if (permutation[i] != i) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code x·W_encᵀ} {@code [T, F]} in the manager of {@code x}, block by block.
     *
     * @param kept the blocks made at open ({@link #transposedBlock}), or {@code null} to read each block now, one at a
     *             time, freeing it before the next
     */
    NDArray multiply(NDArray x, NDArray[] kept) {
        NDManager scope = x.getManager();
        if (blocks == 1) {
            if (kept != null) {
                return x.matMul(kept[0]);
            }
            try (NDManager block = scope.newSubManager()) {
                NDArray h = x.matMul(transposedBlock(block, 0, null));
                h.attach(scope);
                return h;
            }
        }
        long length = x.getShape().get(0);
        NDArray h = scope.zeros(new Shape(length, features), DataType.FLOAT32);
        ByteBuffer scratch = kept == null && copies() ? scratch() : null;
        for (int b = 0; b < blocks; b++) {
            try (NDManager block = scope.newSubManager()) {
                NDArray weights = kept != null ? kept[b] : transposedBlock(block, b, scratch);
                NDArray part = x.matMul(weights);
                part.attach(block);
                h.set(new NDIndex(":, {}:{}", first(b), first(b) + count(b)), part);
            }
        }
        return h;
    }
}

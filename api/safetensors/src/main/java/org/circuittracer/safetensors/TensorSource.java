package org.circuittracer.safetensors;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Named tensors that can be read whole, converted, or in parts: one {@link SafetensorsFile} or a
 * {@link ShardedCheckpoint}.
 *
 * <p>Every method throws {@link SafetensorsFormatException} for a missing tensor
 * ({@link SafetensorsFormatException.Kind#MISSING_TENSOR}), an out-of-range request
 * ({@link SafetensorsFormatException.Kind#INDEX_OUT_OF_RANGE}), an impossible conversion
 * ({@link SafetensorsFormatException.Kind#UNSUPPORTED_CONVERSION}), a result over the 2 GiB limit of Java
 * arrays and buffers ({@link SafetensorsFormatException.Kind#TOO_LARGE}) or an I/O failure; and
 * {@link IllegalStateException} after {@link #close()}. Implementations are safe for concurrent reads.
 *
 * <p><b>Row views.</b> The gather methods view a tensor of shape {@code [d0, d1, ..., dk]} as a matrix of
 * {@code d0} rows of {@code d1*...*dk} elements (a rank-1 tensor has rows of one element, a scalar is one
 * row). They read only the requested bytes, so gathering 300 rows of a 65,536 &times; 512 decoder touches
 * 300 &times; 2 KiB of the file. Row ids may repeat and come in any order; results are in {@code rowIds}
 * order.
 */
public interface TensorSource extends AutoCloseable {

    /** @return the tensor names; see the implementation for the order */
    List<String> names();

    /**
     * @param name a tensor name
     * @return whether a tensor of that name exists
     */
    boolean contains(String name);

    /**
     * @param name a tensor name
     * @return its dtype, shape and byte range
     * @throws SafetensorsFormatException of kind MISSING_TENSOR if there is no such tensor
     */
    TensorInfo info(String name);

    /**
     * @param name a tensor name
     * @return the safetensors file holding it
     */
    Path fileOf(String name);

    /** @return the string metadata ({@code __metadata__}, or a sharded index's {@code metadata}) */
    Map<String, String> metadata();

    /**
     * The tensor's raw bytes, without copying (a slice of a read-only memory mapping).
     *
     * @param name a tensor name
     * @return a read-only little-endian buffer, position 0, limit = {@link TensorInfo#byteSize()}
     * @throws SafetensorsFormatException of kind TOO_LARGE for tensors over 2 GiB: read those in parts
     */
    ByteBuffer bytes(String name);

    /**
     * A byte range of the tensor's raw data, without copying.
     *
     * @param name       a tensor name
     * @param byteOffset offset from the tensor's first byte
     * @param byteLength number of bytes, at most 2^31 - 1
     * @return a read-only little-endian buffer, position 0, limit = byteLength
     */
    ByteBuffer bytes(String name, long byteOffset, long byteLength);

    /**
     * Reads a floating-point tensor (F32, F16, BF16, F64, F8_*) converted to float; F64 is rounded.
     *
     * @param name a tensor name
     * @return the elements in row-major order
     */
    default float[] readFloats(String name) {
        return TensorReads.readFloats(this, name);
    }

    /**
     * Reads a floating-point tensor as F32 values in a little-endian buffer ({@code .asFloatBuffer()} gives a
     * {@code FloatBuffer}). For F32 tensors this is the zero-copy, read-only mapped slice; for other dtypes a
     * new direct buffer. Suited to large tensors handed to native code.
     *
     * @param name a tensor name
     * @return a buffer of {@code numel * 4} bytes, position 0
     */
    default ByteBuffer readAsFloat32Direct(String name) {
        return TensorReads.readAsFloat32Direct(this, name);
    }

    /**
     * Reads an integer or BOOL tensor widened to long (BOOL gives 0 or 1).
     *
     * @param name a tensor name
     * @return the elements in row-major order
     * @throws SafetensorsFormatException of kind UNSUPPORTED_CONVERSION for floating-point tensors, or a U64
     *         value of 2^63 or more
     */
    default long[] readLongs(String name) {
        return TensorReads.readLongs(this, name);
    }

    /**
     * Reads an integer or BOOL tensor as int. BOOL, U8, I8, I16, U16 and I32 always fit; U32, I64 and U64
     * (e.g. token ids saved as int64) are accepted if every value fits in an int.
     *
     * @param name a tensor name
     * @return the elements in row-major order
     * @throws SafetensorsFormatException of kind UNSUPPORTED_CONVERSION for floating-point tensors or a value
     *         that does not fit, naming its index
     */
    default int[] readInts(String name) {
        return TensorReads.readInts(this, name);
    }

    /**
     * Reads whole rows of a floating-point tensor, converted to float.
     *
     * @param name   a tensor name
     * @param rowIds row indices, each in {@code [0, shape[0])}
     * @return {@code rowIds.length * rowLength} floats, row after row
     */
    default float[] gatherRows(String name, int[] rowIds) {
        TensorInfo t = info(name);
        return TensorReads.gatherToArray(this, t, rowIds, 0, TensorReads.rowLengthAsInt(this, t));
    }

    /**
     * Like {@link #gatherRows(String, int[])} but into a new direct little-endian buffer of F32 values.
     *
     * @param name   a tensor name
     * @param rowIds row indices, each in {@code [0, shape[0])}
     * @return a buffer of {@code rowIds.length * rowLength * 4} bytes, position 0
     */
    default ByteBuffer gatherRowsDirect(String name, int[] rowIds) {
        TensorInfo t = info(name);
        return TensorReads.gatherToDirect(this, t, rowIds, 0, TensorReads.rowLengthAsInt(this, t));
    }

    /**
     * Reads a contiguous block of columns from each of some rows: for every row id {@code r}, the elements
     * {@code [colStart, colStart + colLength)} of row {@code r}. For a cross-layer transcoder decoder of shape
     * {@code [F, L - i, d]}, the output for layer {@code i + k} of features {@code f} is
     * {@code gatherRowSlices(name, f, k * d, d)}.
     *
     * @param name      a tensor name
     * @param rowIds    row indices, each in {@code [0, shape[0])}
     * @param colStart  first column, within the row
     * @param colLength number of columns
     * @return {@code rowIds.length * colLength} floats
     */
    default float[] gatherRowSlices(String name, int[] rowIds, long colStart, int colLength) {
        return TensorReads.gatherToArray(this, info(name), rowIds, colStart, colLength);
    }

    /**
     * Like {@link #gatherRowSlices(String, int[], long, int)} but into a new direct little-endian buffer of
     * F32 values.
     *
     * @param name      a tensor name
     * @param rowIds    row indices, each in {@code [0, shape[0])}
     * @param colStart  first column, within the row
     * @param colLength number of columns
     * @return a buffer of {@code rowIds.length * colLength * 4} bytes, position 0
     */
    default ByteBuffer gatherRowSlicesDirect(String name, int[] rowIds, long colStart, int colLength) {
        return TensorReads.gatherToDirect(this, info(name), rowIds, colStart, colLength);
    }

    /**
     * Like {@link #gatherRowSlices(String, int[], long, int)} but writes into {@code dest} (heap or direct),
     * advancing its position by {@code rowIds.length * colLength}. All row ids are checked before anything
     * is written.
     *
     * @param name      a tensor name
     * @param rowIds    row indices, each in {@code [0, shape[0])}
     * @param colStart  first column, within the row
     * @param colLength number of columns
     * @param dest      where the floats go
     * @throws IllegalArgumentException if {@code dest} has too little room
     */
    default void gatherRowSlices(String name, int[] rowIds, long colStart, int colLength, FloatBuffer dest) {
        TensorReads.gather(this, info(name), rowIds, colStart, colLength, dest);
    }

    /** Releases the underlying files. Buffers already returned stay readable until garbage-collected. */
    @Override
    void close();
}

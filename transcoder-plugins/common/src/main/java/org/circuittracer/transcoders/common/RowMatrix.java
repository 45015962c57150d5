package org.circuittracer.transcoders.common;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.util.stream.IntStream;
import org.circuittracer.safetensors.TensorInfo;
import org.circuittracer.safetensors.TensorSource;

/**
 * A matrix {@code [rows, cols]} stored in a safetensors tensor, read whole or a few rows at a time, always as
 * float32 (F16/BF16 are widened in Java: DJL's PyTorch engine aborts on BF16).
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
        ByteBuffer rowsF32 = source.gatherRowSlicesDirect(tensor, ids, colStart, cols);
        return manager.create(rowsF32, new Shape(ids.length, cols), DataType.FLOAT32);
    }

    /**
     * The whole matrix {@code [rows, cols]}. An F32 tensor read whole is a zero-copy view of the memory-mapped file:
     * never modify it in place (the mapping is read-only).
     */
    public NDArray load(NDManager manager) {
        TensorInfo info = source.info(tensor);
        if (colStart == 0 && cols == info.rowLength()) {
            return manager.create(source.readAsFloat32Direct(tensor), new Shape(rows, cols), DataType.FLOAT32);
        }
        return gather(manager, IntStream.range(0, rows).toArray());
    }

    /** {@code file: tensor [shape]} for messages. */
    public String describe() {
        TensorInfo info = source.info(tensor);
        String block = colStart == 0 && cols == info.rowLength() ? ""
                : " (columns " + colStart + ".." + (colStart + cols - 1) + " of each row)";
        return source.fileOf(tensor).getFileName() + ": " + tensor + " " + info.shapeString() + block;
    }
}

package org.circuittracer.safetensors;

import java.util.Arrays;
import java.util.Objects;

/**
 * What a safetensors header says about one tensor.
 *
 * <p>Instances returned by {@link SafetensorsFile} are validated: the shape's dimensions are non-negative,
 * their product times the element size does not overflow and equals {@code dataEnd - dataBegin}.
 * The shape array is copied on the way in and on the way out.
 *
 * @param name      the tensor's name
 * @param dtype     the element type
 * @param shape     the dimensions, outermost first (row-major); empty for a scalar
 * @param dataBegin the first byte of the tensor, relative to the start of the data section
 * @param dataEnd   one past the last byte of the tensor, relative to the start of the data section
 */
public record TensorInfo(String name, DType dtype, long[] shape, long dataBegin, long dataEnd) {

    /**
     * Copies {@code shape} and checks the invariants that need no file.
     *
     * @param name      the tensor's name
     * @param dtype     the element type
     * @param shape     the dimensions, each non-negative
     * @param dataBegin the first byte, relative to the data section, non-negative
     * @param dataEnd   one past the last byte, at least {@code dataBegin}
     * @throws IllegalArgumentException if a dimension is negative or the offsets are inverted
     */
    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = Objects.requireNonNull(shape, "shape").clone();
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
        }
        if (dataBegin < 0 || dataEnd < dataBegin) {
            throw new IllegalArgumentException("bad data offsets [" + dataBegin + ", " + dataEnd + "]");
        }
    }

    /** @return a copy of the shape */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** @return the number of dimensions */
    public int rank() {
        return shape.length;
    }

    /**
     * @param axis a dimension index, 0 &le; axis &lt; rank
     * @return the size of that dimension
     */
    public long dim(int axis) {
        return shape[axis];
    }

    /**
     * @return the number of elements (1 for a scalar)
     * @throws ArithmeticException if it overflows a long (never for validated instances)
     */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** @return the number of data bytes, {@code dataEnd - dataBegin} */
    public long byteSize() {
        return dataEnd - dataBegin;
    }

    /** @return the number of rows when viewed as a matrix [shape[0], rest]: shape[0], or 1 for a scalar */
    public long rows() {
        return shape.length == 0 ? 1 : shape[0];
    }

    /** @return the number of elements per row when viewed as a matrix: the product of shape[1..] */
    public long rowLength() {
        long n = 1;
        for (int i = 1; i < shape.length; i++) {
            n = Math.multiplyExact(n, shape[i]);
        }
        return n;
    }

    /** @return the shape as text, e.g. {@code [128, 48]} */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && dataBegin == t.dataBegin && dataEnd == t.dataEnd;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), dataBegin, dataEnd);
    }

    @Override
    public String toString() {
        return "TensorInfo[" + name + " " + dtype + " " + Arrays.toString(shape) + " data_offsets=[" + dataBegin
                + ", " + dataEnd + "]]";
    }
}

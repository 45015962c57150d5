package org.circuittracer.transcoders.reference;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.HalfFloats;
import org.circuittracer.safetensors.TensorInfo;
import org.circuittracer.safetensors.TensorSource;

/**
 * A tensor to write: element type, shape and little-endian data. The buffer is not copied; it is read when the file
 * is written (so a 1 GiB decoder can come from a direct buffer or a mapped file without touching the heap).
 *
 * @param dtype F32, BF16 or F16
 * @param shape the dimensions, outermost first
 * @param data  exactly {@code numel · dtype.byteSize()} bytes
 */
public record Tensor(DType dtype, long[] shape, ByteBuffer data) {

    public Tensor {
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
        data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
        long numel = Arrays.stream(shape).reduce(1, Math::multiplyExact);
        if (data.remaining() != numel * dtype.byteSize()) {
            throw new IllegalArgumentException(dtype + " " + Arrays.toString(shape) + " needs " + numel * dtype.byteSize()
                    + " bytes, got " + data.remaining());
        }
    }

    /** An existing tensor, unchanged (zero-copy). */
    public static Tensor of(TensorSource source, String name) {
        TensorInfo info = source.info(name);
        return new Tensor(info.dtype(), info.shape(), source.bytes(name));
    }

    /** {@code values} converted to {@code dtype} (F32 exactly; BF16/F16 rounded to nearest even). */
    public static Tensor floats(DType dtype, long[] shape, float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            switch (dtype) {
                case F32 -> bytes.putFloat(v);
                case BF16 -> bytes.putShort(HalfFloats.floatToBf16(v));
                case F16 -> bytes.putShort(HalfFloats.floatToF16(v));
                default -> throw new IllegalArgumentException("transcoder weights are F32, BF16 or F16, not " + dtype);
            }
        }
        return new Tensor(dtype, shape, bytes.flip());
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && dtype == t.dtype && Arrays.equals(shape, t.shape) && data.equals(t.data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + data.hashCode();
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + " " + Arrays.toString(shape) + "]";
    }
}

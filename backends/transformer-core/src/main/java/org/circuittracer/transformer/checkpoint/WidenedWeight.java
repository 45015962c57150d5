package org.circuittracer.transformer.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.ShortBuffer;
import java.util.concurrent.ConcurrentLinkedDeque;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.HalfFloats;
import org.circuittracer.transformer.decoder.DeferredWeight;

/**
 * A BF16 or F16 tensor of a memory-mapped checkpoint, widened to float32 on each {@link #lease} into a buffer of a
 * shared {@link Pool} (so that repeated forward passes reuse a few buffers instead of allocating one per weight: DJL
 * arrays over direct buffers free their memory only when the buffer is garbage-collected). The values are exactly
 * those of an eager read ({@code bits << 16} for BF16), so results do not depend on deferral.
 */
final class WidenedWeight implements DeferredWeight {

    private final ByteBuffer stored;
    private final DType dtype;
    private final long[] shape;
    private final int elements;
    private final Pool pool;

    WidenedWeight(ByteBuffer stored, DType dtype, long[] shape, Pool pool) {
        if (dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("only BF16 and F16 are widened per use, not " + dtype);
        }
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        if (n * Float.BYTES > Integer.MAX_VALUE || stored.remaining() != n * 2) {
            throw new IllegalArgumentException("cannot defer a tensor of " + n + " elements in " + stored.remaining()
                    + " bytes");
        }
        // the mapping stays valid after the checkpoint's files are closed: this buffer keeps it
        this.stored = stored.slice().order(ByteOrder.LITTLE_ENDIAN);
        this.dtype = dtype;
        this.shape = shape.clone();
        this.elements = (int) n;
        this.pool = pool;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public Lease lease(NDManager scope) {
        ByteBuffer buffer = pool.take(elements);
        try {
            ByteBuffer view = buffer.duplicate().clear().limit(elements * Float.BYTES).slice()
                    .order(ByteOrder.LITTLE_ENDIAN);
            widen(view);
            NDArray array = scope.create(view, new Shape(shape), DataType.FLOAT32);
            return new Lease() {
                private boolean closed;

                @Override
                public NDArray array() {
                    return array;
                }

                @Override
                public void close() {
                    if (!closed) {
                        closed = true;
                        pool.give(buffer);
                    }
                }
            };
        } catch (RuntimeException | Error e) {
            pool.give(buffer);
            throw e;
        }
    }

    /** Widens the stored values into {@code out} in chunks through arrays (which the JIT vectorises). */
    private void widen(ByteBuffer out) {
        ShortBuffer in = stored.asShortBuffer();
        IntBuffer bits = out.asIntBuffer();
        int chunk = Math.min(elements, 1 << 16);
        short[] s = new short[chunk];
        int[] v = new int[chunk];
        for (int offset = 0; offset < elements; offset += chunk) {
            int n = Math.min(chunk, elements - offset);
            in.get(offset, s, 0, n);
            if (dtype == DType.BF16) {
                for (int i = 0; i < n; i++) {
                    v[i] = s[i] << 16; // the sign bit lands in bit 31; the low bits of the int are zero either way
                }
            } else {
                for (int i = 0; i < n; i++) {
                    v[i] = Float.floatToRawIntBits(HalfFloats.f16ToFloat(s[i]));
                }
            }
            bits.put(offset, v, 0, n);
        }
    }

    /**
     * Direct buffers for widened weights, reused: one per concurrent use (a forward pass uses one weight at a time).
     */
    static final class Pool {

        private final ConcurrentLinkedDeque<ByteBuffer> free = new ConcurrentLinkedDeque<>();
        private final int capacityElements;

        /** @param capacityElements the largest weight's elements: every buffer holds that many floats */
        Pool(int capacityElements) {
            this.capacityElements = capacityElements;
        }

        /** A whole pooled buffer (at least {@code elements} floats); hand it back with {@link #give}. */
        ByteBuffer take(int elements) {
            if (elements > capacityElements) {
                throw new IllegalArgumentException(elements + " elements, pool buffers hold " + capacityElements);
            }
            ByteBuffer b = free.pollFirst();
            return b != null ? b : ByteBuffer.allocateDirect(capacityElements * Float.BYTES)
                    .order(ByteOrder.LITTLE_ENDIAN);
        }

        void give(ByteBuffer buffer) {
            free.addFirst(buffer);
        }
    }
}

package org.circuittracer.transformer.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * A weight matrix that is not held in memory as an array but made on each use: a bfloat16 tensor of a memory-mapped
 * checkpoint widened to float32 for one product and dropped after it (DJL's PyTorch engine has no bfloat16, and
 * float32 copies of every weight of a 2-billion-parameter model would need ~10 GB).
 */
public interface DeferredWeight {

    /** The stored shape {@code [rows, cols]}. */
    long[] shape();

    /**
     * The weight as a float32 array in {@code scope}, valid until the lease is closed; close the lease after the
     * arrays made from it are no longer used (its buffer may then be reused for another weight).
     */
    Lease lease(NDManager scope);

    /** One use of a deferred weight. */
    interface Lease extends AutoCloseable {

        /** The float32 weight {@code [rows, cols]}. */
        NDArray array();

        @Override
        void close();
    }
}

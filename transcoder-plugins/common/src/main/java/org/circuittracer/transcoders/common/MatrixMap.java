package org.circuittracer.transcoders.common;

import ai.djl.ndarray.NDArray;
import org.circuittracer.spi.model.LinearMap;

/**
 * {@code x ↦ x·M} with {@code M [inputWidth, outputWidth]}, and its adjoint {@code g ↦ g·Mᵀ}. Both orientations are
 * kept (one is a transposed view of the other) so that applying allocates nothing in the owner's manager; results
 * belong to the manager of the argument.
 *
 * @param forward {@code M [inputWidth, outputWidth]}
 * @param adjoint {@code Mᵀ [outputWidth, inputWidth]}
 */
record MatrixMap(NDArray forward, NDArray adjoint) implements LinearMap {

    /** {@code x ↦ x·Wᵀ} for {@code W [out, in]} (transposed) or {@code x ↦ x·W} for {@code W [in, out]}. */
    static MatrixMap of(NDArray weight, boolean transposed) {
        NDArray flipped = weight.transpose();
        return transposed ? new MatrixMap(flipped, weight) : new MatrixMap(weight, flipped);
    }

    @Override
    public int inputWidth() {
        return Math.toIntExact(forward.getShape().get(0));
    }

    @Override
    public int outputWidth() {
        return Math.toIntExact(forward.getShape().get(1));
    }

    @Override
    public NDArray apply(NDArray x) {
        return x.matMul(forward);
    }

    @Override
    public NDArray applyAdjoint(NDArray gradient) {
        return gradient.matMul(adjoint);
    }
}

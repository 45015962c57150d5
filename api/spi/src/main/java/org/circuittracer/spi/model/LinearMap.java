package org.circuittracer.spi.model;

import ai.djl.ndarray.NDArray;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A linear map on the last axis, {@code [..., inputWidth] → [..., outputWidth]}, with its adjoint. Dictionaries use it
 * for skip connections, which the frozen model must propagate gradients through (the only path through an MLP).
 * Results belong to the manager of the argument.
 */
@ConsumerType
public interface LinearMap {

    int inputWidth();

    int outputWidth();

    /** {@code x ↦ x·Mᵀ}-style application: {@code [..., inputWidth] → [..., outputWidth]}. */
    NDArray apply(NDArray x);

    /** The adjoint: {@code [..., outputWidth] → [..., inputWidth]}, so that ⟨apply(x), g⟩ = ⟨x, applyAdjoint(g)⟩. */
    NDArray applyAdjoint(NDArray gradient);
}

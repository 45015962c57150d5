package org.circuittracer.backend.djl.decoder;

import ai.djl.ndarray.NDArray;
import java.util.Objects;
import java.util.Optional;

/**
 * An affine map {@code y = x·W + b}.
 *
 * @param weight {@code [in, out]}; for Hugging Face {@code nn.Linear} weights (stored {@code [out, in]}) a
 *               transposed view, for GPT-2's {@code Conv1D} the stored tensor itself
 * @param bias   {@code [out]}, if the layer has one
 */
public record Linear(NDArray weight, Optional<NDArray> bias) {

    public Linear {
        Objects.requireNonNull(weight, "weight");
        Objects.requireNonNull(bias, "bias");
    }

    /** {@code x [..., in]} to {@code [..., out]}; the result belongs to {@code x}'s manager. */
    public NDArray apply(NDArray x) {
        NDArray y = x.matMul(weight);
        return bias.isPresent() ? y.add(bias.get()) : y;
    }

    /** Width of the input. */
    public long inputWidth() {
        return weight.getShape().get(0);
    }

    /** Width of the output. */
    public long outputWidth() {
        return weight.getShape().get(1);
    }
}

package org.circuittracer.transcoders.common;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import java.util.Objects;
import org.circuittracer.spi.dictionary.ActivationFunction;

/**
 * The activation function of one source layer, applied to pre-activations {@code h [T, F]} (ALGORITHM.md §2.2).
 * Results are new arrays in the manager of {@code h}.
 */
public sealed interface Nonlinearity {

    /** What the SPI reports for it. */
    ActivationFunction function();

    /** {@code σ(h)}: {@code [T, F] → [T, F]}. */
    NDArray apply(NDArray preActivations);

    /** {@code max(h, 0)}. */
    record Relu() implements Nonlinearity {
        @Override
        public ActivationFunction function() {
            return new ActivationFunction.Relu();
        }

        @Override
        public NDArray apply(NDArray h) {
            return h.maximum(0f);
        }
    }

    /**
     * {@code h} where {@code h > θ} (strictly), else 0; the product form {@code h·[h > θ]} of the reference.
     *
     * @param thresholds {@code [F]} raw (not logarithmic) per-feature thresholds θ
     */
    record JumpRelu(NDArray thresholds) implements Nonlinearity {
        public JumpRelu {
            Objects.requireNonNull(thresholds, "thresholds");
        }

        @Override
        public ActivationFunction function() {
            return new ActivationFunction.JumpRelu();
        }

        @Override
        public NDArray apply(NDArray h) {
            try (NDArray above = h.gt(thresholds); NDArray mask = above.toType(DataType.FLOAT32, false)) {
                return h.mul(mask);
            }
        }
    }

    /**
     * Per position, the {@code k} largest pre-activations unchanged (negatives survive when fewer than {@code k} are
     * positive), all others 0. Ties follow the engine's top-k.
     *
     * @param k how many features each position keeps, {@code 1 ≤ k ≤ F}
     */
    record TopK(int k) implements Nonlinearity {
        public TopK {
            if (k < 1) {
                throw new IllegalArgumentException("TopK needs k >= 1, got " + k);
            }
        }

        @Override
        public ActivationFunction function() {
            return new ActivationFunction.TopK(k);
        }

        @Override
        public NDArray apply(NDArray h) {
            int featureAxis = h.getShape().dimension() - 1;
            try (NDList top = h.topK(k, featureAxis, true, false); NDArray zeros = h.zerosLike()) {
                return zeros.scatter(top.get(1), top.get(0), featureAxis);
            }
        }
    }
}

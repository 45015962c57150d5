package org.circuittracer.transcoders.common;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.circuittracer.spi.dictionary.ActivationFunction;

/**
 * The activation function of one source layer, applied to pre-activations {@code h [T, F]} (docs/reference/algorithm.md §2.2).
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

    /**
     * ReLU after TopK: per position, the {@code k} largest pre-activations, of which only the positive ones survive
     * ({@code max(TopK(h), 0)}, equivalently {@code TopK(max(h, 0))}). This is the TopK of SAELens and EleutherAI's
     * sparsify; it differs from {@link TopK} only where fewer than {@code k} pre-activations are positive. The SPI has
     * no record for it, so it is reported as {@link ActivationFunction.Other} named {@code relu-topk(k=K)}: use
     * {@link #function(int)} and {@link #of(ActivationFunction)} rather than spelling the name.
     *
     * @param k how many features each position keeps at most, {@code 1 ≤ k ≤ F}
     */
    record ReluTopK(int k) implements Nonlinearity {
        private static final Pattern NAME = Pattern.compile("relu-topk\\(k=([1-9][0-9]{0,8})\\)");

        public ReluTopK {
            if (k < 1) {
                throw new IllegalArgumentException("TopK needs k >= 1, got " + k);
            }
        }

        /** What the SPI reports for ReLU after TopK with this {@code k}. */
        public static ActivationFunction function(int k) {
            return new ReluTopK(k).function();
        }

        /** The {@code k} of a function made by {@link #function(int)}; empty for any other function. */
        public static OptionalInt of(ActivationFunction function) {
            if (function instanceof ActivationFunction.Other other) {
                Matcher m = NAME.matcher(other.name());
                if (m.matches()) {
                    return OptionalInt.of(Integer.parseInt(m.group(1)));
                }
            }
            return OptionalInt.empty();
        }

        @Override
        public ActivationFunction function() {
            return new ActivationFunction.Other("relu-topk(k=" + k + ")");
        }

        @Override
        public NDArray apply(NDArray h) {
            int featureAxis = h.getShape().dimension() - 1;
            try (NDList top = h.topK(k, featureAxis, true, false); NDArray zeros = h.zerosLike();
                 NDArray kept = top.get(0).maximum(0f)) {
                return zeros.scatter(top.get(1), kept, featureAxis);
            }
        }
    }
}

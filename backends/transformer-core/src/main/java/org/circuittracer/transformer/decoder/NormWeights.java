package org.circuittracer.transformer.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.Objects;
import java.util.Optional;

/**
 * A normalisation layer written so that its scale is an explicit, replaceable value:
 * {@code y = gain ⊙ (c(x) / s) + bias} with {@code s = sqrt(mean(c(x)²) + ε)} over the last axis, where
 * {@code c(x) = x − mean(x)} for LayerNorm and {@code c(x) = x} for RMSNorm. Freezing the norm means replacing
 * {@code s} by a recorded value; the rest is linear in {@code x}.
 *
 * @param kind    RMSNorm or LayerNorm
 * @param gain    {@code [w]}: the effective multiplier (for Gemma's {@code (1 + w)} the sum is taken on load)
 * @param bias    {@code [w]}, LayerNorm only
 * @param epsilon added to the mean square before the square root
 */
public record NormWeights(Kind kind, NDArray gain, Optional<NDArray> bias, float epsilon) {

    /** The two normalisations in use. */
    public enum Kind {
        /** Root-mean-square normalisation: no centring, no bias (Llama, Gemma, Qwen). */
        RMS,
        /** Layer normalisation: centred, with bias (GPT-2). */
        LAYER
    }

    private static final int[] LAST_AXIS = {-1};

    public NormWeights {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(gain, "gain");
        Objects.requireNonNull(bias, "bias");
    }

    /** {@code c(x)}: {@code x} centred over the last axis for LayerNorm, {@code x} itself for RMSNorm. */
    public NDArray centered(NDArray x) {
        return kind == Kind.LAYER ? x.sub(x.mean(LAST_AXIS, true)) : x;
    }

    /** {@code s = sqrt(mean(c²) + ε)}: {@code [..., w]} to {@code [..., 1]}. */
    public NDArray scale(NDArray centered) {
        return centered.square().mean(LAST_AXIS, true).add(epsilon).sqrt();
    }

    /** {@code gain ⊙ normalized + bias}. */
    public NDArray applyGain(NDArray normalized) {
        NDArray y = normalized.mul(gain);
        return bias.isPresent() ? y.add(bias.get()) : y;
    }

    /**
     * The norm of {@code x} with a given denominator (a frozen clean scale, {@code [T, 1]}), computed as the forward pass
     * computes it: centred in float32, divided by the scale, gain (and bias) applied, back to {@code x}'s type.
     */
    public NDArray applyWithScale(NDArray x, NDArray scale) {
        return applyGain(centered(x.toType(DataType.FLOAT32, false)).div(scale)).toType(x.getDataType(), false);
    }

    /**
     * The whole norm, computed in float32 and returned in {@code x}'s type, for norms that are not hook sites
     * (Qwen-3's per-head query and key norms).
     */
    public NDArray apply(NDArray x) {
        NDArray c = centered(x.toType(DataType.FLOAT32, false));
        return applyGain(c.div(scale(c))).toType(x.getDataType(), false);
    }
}

package org.circuittracer.transformer.linear;

import ai.djl.ndarray.NDArray;
import java.util.Objects;

/**
 * A normalisation with its denominator frozen: {@code x ↦ γ ⊙ C·x / s}, where {@code C} subtracts the mean over the
 * model width for LayerNorm and is the identity for RMSNorm. With {@code s} fixed the map is linear.
 *
 * @param gain     {@code [d]} the effective gain γ (Gemma's {@code 1 + w} already added), or null for none (e.g. a
 *                 site read before the gain)
 * @param centered whether the norm subtracts the mean (LayerNorm)
 * @param scale    {@code [T, 1]} the frozen denominators of the clean forward pass
 */
public record FrozenNorm(NDArray gain, boolean centered, NDArray scale) {

    public FrozenNorm {
        Objects.requireNonNull(scale, "scale");
    }

    /** The same norm without its gain: {@code x ↦ C·x / s} (e.g. {@code ln2.hook_normalized}). */
    public FrozenNorm withoutGain() {
        return new FrozenNorm(null, centered, scale);
    }

    /**
     * The adjoint {@code ḡ ↦ C·(γ ⊙ ḡ) / s} on the first {@code positions} positions.
     *
     * @param gradient {@code [B, P, d]} with {@code P = positions}
     * @return {@code [B, P, d]}, owned by the gradient's manager
     */
    public NDArray adjoint(NDArray gradient, int positions) {
        NDArray out = gain == null ? gradient : gradient.mul(gain);
        if (centered) {
            out = out.sub(out.mean(new int[] {-1}, true));
        }
        return out.div(Scoped.slice(scale, ":" + positions, gradient));
    }

    /**
     * The norm applied forwards to a change {@code x}: {@code γ ⊙ C·x / s} on the first {@code positions} positions.
     *
     * @param change {@code [S, P, d]} with {@code P = positions}
     * @return {@code [S, P, d]}, owned by the change's manager
     */
    public NDArray forward(NDArray change, int positions) {
        NDArray out = centered ? change.sub(change.mean(new int[] {-1}, true)) : change;
        out = out.div(Scoped.slice(scale, ":" + positions, change));
        return gain == null ? out : out.mul(gain);
    }
}

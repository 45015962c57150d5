package org.circuittracer.attribution.targets;

import java.util.Objects;

/**
 * One attribution target: the scalar {@code ⟨direction, z[T−1]⟩} at the final normalised residual.
 *
 * @param label      the decoded token, or the custom target's label
 * @param vocabIndex the token id, or {@code V + i} for the {@code i}-th custom target (a "virtual index")
 * @param weight     the weight in influence computations (the token's probability for logit targets)
 * @param direction  {@code [d]}: {@code U[:, id] − mean_j U[:, j]} for logit targets, verbatim for custom ones
 */
public record LogitTarget(String label, int vocabIndex, float weight, float[] direction) {

    public LogitTarget {
        Objects.requireNonNull(label, "label");
        direction = direction.clone();
    }

    @Override
    public float[] direction() {
        return direction.clone();
    }
}

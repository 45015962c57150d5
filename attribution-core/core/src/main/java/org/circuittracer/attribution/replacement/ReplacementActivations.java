package org.circuittracer.attribution.replacement;

import ai.djl.ndarray.NDArray;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.model.TokenSequence;

/**
 * What the replacement model computes for one prompt (docs/reference/algorithm.md §3.3). The arrays belong to the {@code NDManager}
 * passed to {@link ReplacementModel#activations}.
 *
 * @param tokens          the prompt
 * @param zeroedPositions {@code Z}: positions without features and with zero error
 * @param logits          {@code [T, V]} the model's real logits (after any final soft-cap)
 * @param features        per layer {@code 0 … L−1}, the non-zero activations (rows at {@code Z} zeroed)
 * @param errors          {@code [L, T, d]} error vectors {@code e_ℓ[p] = y_ℓ[p] − ŷ_ℓ[p]}, zero at {@code Z}
 * @param tokenVectors    {@code [T, d]} token embeddings exactly as they enter the residual ({@code hook_embed}, e.g.
 *                        Gemma's √d included; GPT-2's position embeddings excluded)
 */
public record ReplacementActivations(TokenSequence tokens, Set<Integer> zeroedPositions, NDArray logits,
                                     List<SparseActivations> features, NDArray errors, NDArray tokenVectors) {

    public ReplacementActivations {
        Objects.requireNonNull(tokens, "tokens");
        zeroedPositions = Set.copyOf(zeroedPositions);
        Objects.requireNonNull(logits, "logits");
        features = List.copyOf(features);
        Objects.requireNonNull(errors, "errors");
        Objects.requireNonNull(tokenVectors, "tokenVectors");
    }

    /** The active features as one list in (layer, position, feature) order. */
    public ActiveFeatures active() {
        return ActiveFeatures.of(features);
    }

    /** {@code [V]} the real logits at the last position. */
    public float[] lastLogits() {
        return logits.get(tokens.length() - 1).toFloatArray();
    }
}

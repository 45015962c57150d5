package org.circuittracer.backend.djl.linear;

import ai.djl.ndarray.NDArray;
import java.util.Objects;

/**
 * The value/output path of one attention layer with its probabilities frozen: {@code att = Σ_h P_h · (u·V_kv(h)) · O_h}.
 * Queries, keys, rotary embeddings, soft-caps and windows only shape {@code P}, so they drop out; biases are constants.
 *
 * @param keysByQueries {@code [H, T, T]} the clean attention probabilities transposed to [head, key, query]
 * @param valueAdjoint  {@code [KV·dh, d]} the transpose of the map from the attention input {@code u} to the values
 * @param outputAdjoint {@code [d, H·dh]} the transpose of the map from the concatenated head outputs to the attention
 *                      output
 * @param heads    query heads {@code H}
 * @param kvHeads  key/value heads {@code KV}; query head {@code h} reads value head {@code h / (H / KV)}
 * @param headDim  {@code dh}
 */
public record FrozenAttention(NDArray keysByQueries, NDArray valueAdjoint, NDArray outputAdjoint, int heads,
                              int kvHeads, int headDim) {

    public FrozenAttention {
        Objects.requireNonNull(keysByQueries, "keysByQueries");
        Objects.requireNonNull(valueAdjoint, "valueAdjoint");
        Objects.requireNonNull(outputAdjoint, "outputAdjoint");
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads " + heads + " not a multiple of kvHeads " + kvHeads);
        }
    }

    /**
     * The adjoint on the first {@code positions} positions (causality makes later positions irrelevant).
     *
     * @param gradient {@code [B, P, d]} gradient at the attention output
     * @return {@code [B, P, d]} gradient at the attention input {@code u}
     */
    public NDArray adjoint(NDArray gradient, int positions) {
        long lanes = gradient.getShape().get(0);
        int p = positions;
        NDArray perHead = gradient.matMul(outputAdjoint)                        // [B, P, H·dh]
                .reshape(lanes, p, heads, headDim).transpose(0, 2, 1, 3);       // [B, H, P, dh]
        NDArray pattern = Scoped.slice(keysByQueries, ":, :" + p + ", :" + p, gradient).expandDims(0); // [1, H, P, P]
        NDArray values = pattern.matMul(perHead);                               // [B, H, P, dh]
        if (kvHeads < heads) {
            // grouped-query attention: consecutive query heads share a value head
            values = values.reshape(lanes, kvHeads, heads / kvHeads, p, headDim).sum(new int[] {2});
        }
        return values.transpose(0, 2, 1, 3).reshape(lanes, p, (long) kvHeads * headDim)
                .matMul(valueAdjoint);                                          // [B, P, d]
    }
}

package org.circuittracer.backend.djl.linear;

import java.util.Objects;

/**
 * One transformer block with its nonlinearities frozen, in the shape docs/reference/algorithm.md §2.8 sweeps backwards:
 * {@code r ─ln1─► attention ─[ln1Post]─► (+r) = m;  m ─ln2─► MLP (cut) ─[ln2Post]─► (+m)}.
 *
 * @param ln1       the pre-attention norm
 * @param attention the frozen value/output path
 * @param ln1Post   the post-attention norm (Gemma-2/3), or null
 * @param ln2       the pre-MLP norm (its gain is the {@code mlp.hook_in} gain)
 * @param ln2Post   the post-MLP norm (Gemma-2/3), or null
 */
public record FrozenLayer(FrozenNorm ln1, FrozenAttention attention, FrozenNorm ln1Post, FrozenNorm ln2,
                          FrozenNorm ln2Post) {

    public FrozenLayer {
        Objects.requireNonNull(ln1, "ln1");
        Objects.requireNonNull(attention, "attention");
        Objects.requireNonNull(ln2, "ln2");
    }
}

package org.circuittracer.transformer.linear;

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

    /**
     * The same block with {@code ln1}'s gain, and a not-centred {@code ln1Post}'s, folded into the attention's
     * weights (exact: a gain is diagonal and sits next to a linear map); the norms then divide by their scales only.
     * Idempotent.
     */
    public FrozenLayer folded() {
        FrozenAttention a = attention;
        FrozenNorm pre = ln1;
        FrozenNorm post = ln1Post;
        if (pre.gain() != null) {
            a = a.withInputGain(pre.gain());
            pre = pre.withoutGain();
        }
        // a centred post-norm subtracts the mean after its gain, so its gain does not commute with the projection
        if (post != null && post.gain() != null && !post.centered()) {
            a = a.withOutputGain(post.gain());
            post = post.withoutGain();
        }
        return a == attention ? this : new FrozenLayer(pre, a, post, ln2, ln2Post);
    }
}

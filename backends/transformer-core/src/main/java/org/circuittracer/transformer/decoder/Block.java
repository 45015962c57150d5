package org.circuittracer.transformer.decoder;

import java.util.Objects;
import java.util.Optional;

/**
 * One pre-norm transformer block:
 * {@code m = r + post1(attention(ln1(r)))}, {@code r' = m + post2(mlp(ln2(m)))}, where the post-norms exist for
 * Gemma only.
 *
 * @param ln1       the pre-attention norm ({@code ln1.hook_scale})
 * @param attention the attention layer ({@code attn.hook_pattern})
 * @param ln1Post   the post-attention norm ({@code ln1_post.hook_scale}, Gemma)
 * @param ln2       the pre-MLP norm ({@code ln2.hook_scale}, {@code ln2.hook_normalized})
 * @param mlp       the MLP ({@code mlp.hook_in} to {@code mlp.hook_out})
 * @param ln2Post   the post-MLP norm ({@code ln2_post.hook_scale}, Gemma)
 */
public record Block(NormWeights ln1, Attention attention, Optional<NormWeights> ln1Post, NormWeights ln2, Mlp mlp,
                    Optional<NormWeights> ln2Post) {

    public Block {
        Objects.requireNonNull(ln1, "ln1");
        Objects.requireNonNull(attention, "attention");
        Objects.requireNonNull(ln1Post, "ln1Post");
        Objects.requireNonNull(ln2, "ln2");
        Objects.requireNonNull(mlp, "mlp");
        Objects.requireNonNull(ln2Post, "ln2Post");
    }
}

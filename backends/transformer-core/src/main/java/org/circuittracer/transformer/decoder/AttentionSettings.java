package org.circuittracer.transformer.decoder;

import java.util.Objects;
import java.util.Optional;

/**
 * How one attention layer turns queries and keys into probabilities.
 *
 * @param heads         query heads {@code H}
 * @param keyValueHeads key/value heads {@code KV}, a divisor of {@code H}
 * @param headWidth     {@code h}
 * @param scale         multiplies {@code q·k}: {@code h^−½}, or Gemma-2's {@code query_pre_attn_scalar^−½}
 * @param logitSoftcap  {@code c > 0} caps the scaled logits to {@code c·tanh(x / c)} (Gemma-2); 0 for none
 * @param slidingWindow {@code w > 0} lets query {@code q} see keys {@code q − w < k ≤ q} only; 0 for all earlier
 *                      keys
 * @param rotary        the rotary embedding applied to queries and keys, if any
 */
public record AttentionSettings(int heads, int keyValueHeads, int headWidth, float scale, float logitSoftcap,
                                int slidingWindow, Optional<RotaryEmbedding> rotary) {

    public AttentionSettings {
        Objects.requireNonNull(rotary, "rotary");
        if (heads <= 0 || keyValueHeads <= 0 || heads % keyValueHeads != 0 || headWidth <= 0) {
            throw new IllegalArgumentException("bad head counts: " + heads + " heads, " + keyValueHeads
                    + " key/value heads, width " + headWidth);
        }
    }

    /** Query heads per key/value head. */
    public int groupSize() {
        return heads / keyValueHeads;
    }
}

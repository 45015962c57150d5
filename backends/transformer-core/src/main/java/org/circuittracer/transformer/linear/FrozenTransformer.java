package org.circuittracer.transformer.linear;

import java.util.List;
import java.util.Objects;

/**
 * A whole model linearised around one prompt: the frozen blocks and the frozen final norm. Architecture-neutral:
 * each backend architecture fills it from its weights and the clean forward pass, and {@link AdjointSweep} runs the
 * same reverse sweep for all of them.
 *
 * @param layers    the blocks, layer order (stored {@linkplain FrozenLayer#folded() folded})
 * @param finalNorm the final norm (its gain included): {@code r_L ↦ unembed.hook_in}
 * @param width     the residual width {@code d}
 * @param length    the prompt length {@code T}
 */
public record FrozenTransformer(List<FrozenLayer> layers, FrozenNorm finalNorm, int width, int length) {

    public FrozenTransformer {
        // norm gains folded into the attention weights once here, not applied on every VJP
        layers = layers.stream().map(FrozenLayer::folded).toList();
        Objects.requireNonNull(finalNorm, "finalNorm");
    }
}

package org.circuittracer.spi.model;

import org.circuittracer.spi.Capability;

/** What a backend can do. Declared by {@link BackendProvider#capabilities()}; checked before work starts. */
public enum BackendCapability implements Capability {
    /** Forward passes with capture, replace and add hooks at every canonical site. */
    HOOKS("forward passes with hooks at every canonical site"),
    /** Hooks given as arbitrary Java functions ({@link Hook.Transform}). */
    FUNCTION_HOOKS("hooks that run arbitrary Java functions on activations"),
    /** Attention patterns can be captured and replaced (frozen). */
    FREEZE_ATTENTION("freezing attention patterns"),
    /** Norm scales can be captured and replaced (frozen). */
    FREEZE_NORMS("freezing normalisation scales"),
    /** The frozen model's vector-Jacobian product ({@link TransformerModel#linearize}). */
    VJP("vector-Jacobian products of the frozen model"),
    /** Incremental generation with a key/value cache. */
    KV_CACHE("generation with a key/value cache"),
    /** Runs on a CUDA device. */
    CUDA("running on an NVIDIA GPU"),
    /** Loads and runs models in float16. */
    FLOAT16("float16 weights and activations"),
    /**
     * The unembedding vectors can be read ({@link TransformerModel#unembeddingVectors},
     * {@link TransformerModel#meanUnembeddingVector}): logit attribution targets are built from them.
     */
    UNEMBEDDING("reading the unembedding vectors of tokens"),
    /**
     * Edges split over attention heads ({@link LinearizedModel#headLoadings}): which heads of which layers carry each
     * edge of the linearised model.
     */
    HEAD_LOADINGS("splitting edges over the attention heads that carry them"),
    /**
     * Attention scores split over sources ({@link LinearizedModel#qkAttribution}): why a head attended where it did.
     */
    QK_ATTRIBUTION("splitting attention scores over the sources of the query and the key");

    private final String meaning;

    BackendCapability(String meaning) {
        this.meaning = meaning;
    }

    @Override
    public String meaning() {
        return meaning;
    }
}

package org.circuittracer.spi.attribution;

/** The phases of an attribution (docs/reference/algorithm.md §3.2), in order. */
public enum AttributionPhase {
    /** Clean forward pass, dictionary activations, error and token vectors. */
    PRECOMPUTE,
    /** Linearisation: frozen patterns and scales recorded. */
    LINEARIZE,
    /** VJP batches for the logit targets. */
    LOGIT_ROWS,
    /** VJP batches for feature targets, influence-ordered. */
    FEATURE_ROWS,
    /** Assembling the graph. */
    ASSEMBLE
}

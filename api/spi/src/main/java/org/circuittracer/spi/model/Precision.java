package org.circuittracer.spi.model;

/**
 * Numeric precision of weights and activations inside a backend. bfloat16 checkpoints are widened to
 * {@link #FLOAT32} on load (DJL's PyTorch engine cannot hold bfloat16 tensors).
 */
public enum Precision {
    FLOAT32,
    FLOAT16
}

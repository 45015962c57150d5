package org.circuittracer.spi.model;

import ai.djl.ndarray.NDArray;
import java.util.Objects;

/**
 * The outcome of a generation. Arrays belong to the manager passed to {@link TransformerModel#generate}.
 *
 * @param tokens     the prompt followed by the generated tokens
 * @param stepLogits {@code [n, V]}: the logits each new token was chosen from (the prompt pass's last position, then
 *                   one row per incremental step), after any soft-cap
 */
public record GenerationResult(TokenSequence tokens, NDArray stepLogits) {

    public GenerationResult {
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(stepLogits, "stepLogits");
    }
}

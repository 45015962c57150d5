package org.circuittracer.spi.model;

import java.util.Objects;
import java.util.Set;

/**
 * What a model suggests for generation when the user says nothing: its stop tokens and its sampling settings (from
 * Hugging Face's {@code generation_config.json} where present).
 *
 * @param stopTokens the end-of-sequence ids; copied
 * @param sampling   the suggested sampling ({@link Sampling#greedy()} when the model does not sample by default)
 */
public record GenerationDefaults(Set<Integer> stopTokens, Sampling sampling) {

    public GenerationDefaults {
        stopTokens = Set.copyOf(stopTokens);
        Objects.requireNonNull(sampling, "sampling");
    }
}

package org.circuittracer.spi.model;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * A generation: {@code prompt} continued by up to {@code maxNewTokens} tokens.
 *
 * @param prompt       the prompt
 * @param maxNewTokens how many tokens to generate at most (≥ 1)
 * @param sampling     how to choose tokens
 * @param stopTokens   generation ends after producing one of these (e.g. EOS); copied
 * @param hooks        hooks applied on the prompt pass and on every incremental step; their {@link Positions} are
 *                     absolute positions in the growing sequence, so an open-ended slice also reaches generated
 *                     positions while a bounded one touches the prompt only
 */
public record GenerationRequest(TokenSequence prompt, int maxNewTokens, Sampling sampling, Set<Integer> stopTokens,
                                List<Hook> hooks) {

    public GenerationRequest {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(sampling, "sampling");
        if (maxNewTokens < 1) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT,
                    "Generate at least one token (max new tokens was " + maxNewTokens + ").");
        }
        stopTokens = Set.copyOf(stopTokens);
        hooks = List.copyOf(hooks);
    }
}

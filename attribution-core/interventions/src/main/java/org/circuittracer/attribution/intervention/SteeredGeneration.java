package org.circuittracer.attribution.intervention;

import java.util.List;
import java.util.Objects;
import org.circuittracer.spi.model.TokenSequence;

/**
 * A steered generation next to the unsteered one from the same prompt and sampling (docs/reference/algorithm.md §7.4).
 *
 * @param steered   the generation with the interventions
 * @param unsteered the generation without them
 */
public record SteeredGeneration(Run steered, Run unsteered) {

    public SteeredGeneration {
        Objects.requireNonNull(steered, "steered");
        Objects.requireNonNull(unsteered, "unsteered");
    }

    /**
     * One generation.
     *
     * @param tokens       the prompt followed by the generated tokens
     * @param text         the decoded full sequence (prompt and continuation, special tokens kept), as the reference
     * @param continuation the decoded generated tokens only
     * @param steps        per generated token, the top-k logits it was chosen from
     */
    public record Run(TokenSequence tokens, String text, String continuation, List<TopLogits> steps) {
        public Run {
            Objects.requireNonNull(tokens, "tokens");
            Objects.requireNonNull(text, "text");
            Objects.requireNonNull(continuation, "continuation");
            steps = List.copyOf(steps);
        }
    }

    /**
     * The {@code k} largest logits of one step, descending (ties to the lower token id).
     *
     * @param chosen   the token generated at this step
     * @param tokenIds the top-k token ids
     * @param logits   their logits
     */
    public record TopLogits(int chosen, int[] tokenIds, float[] logits) {
        public TopLogits {
            tokenIds = tokenIds.clone();
            logits = logits.clone();
        }

        @Override
        public int[] tokenIds() {
            return tokenIds.clone();
        }

        @Override
        public float[] logits() {
            return logits.clone();
        }
    }
}

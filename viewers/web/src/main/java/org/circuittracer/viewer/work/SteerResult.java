package org.circuittracer.viewer.work;

import java.util.List;

/**
 * Steered and unsteered generations side by side, decoded for the page.
 *
 * @param steered   with the interventions
 * @param unsteered without them
 */
public record SteerResult(Run steered, Run unsteered) {

    /**
     * One generation.
     *
     * @param text         prompt and continuation, decoded
     * @param continuation the generated text only
     * @param steps        one per generated token
     */
    public record Run(String text, String continuation, List<Step> steps) {
        public Run {
            steps = List.copyOf(steps);
        }
    }

    /**
     * One generated token and the candidates it was chosen from.
     *
     * @param token      its text
     * @param tokenId    its id
     * @param candidates the top logits, descending
     */
    public record Step(String token, int tokenId, List<Candidate> candidates) {
        public Step {
            candidates = List.copyOf(candidates);
        }
    }

    /**
     * A candidate token, its logit and its probability (softmax over the whole vocabulary; null when unknown).
     */
    public record Candidate(String token, int tokenId, float logit, Double probability) {

        /** Without a probability. */
        public Candidate(String token, int tokenId, float logit) {
            this(token, tokenId, logit, null);
        }
    }
}

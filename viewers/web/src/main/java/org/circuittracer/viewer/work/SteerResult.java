package org.circuittracer.viewer.work;

import java.util.List;

/**
 * Steered and unsteered generations side by side, decoded for the page.
 *
 * @param steered   with the interventions
 * @param unsteered without them
 */
public record SteerResult(Run steered, Run unsteered, TargetChange target) {

    /** Without a target. */
    public SteerResult(Run steered, Run unsteered) {
        this(steered, unsteered, null);
    }

    /**
     * The graph's target at the first generated token, unsteered and steered, computed from the whole vocabulary's
     * logits (exact whatever the target's rank).
     *
     * @param kind      {@code "token"} (one token: its logit and probability) or {@code "difference"} (a logit
     *                  difference A − B: {@code logit} is {@code logit_A − logit_B}, no probability)
     * @param label     the token text, or {@code A − B}
     * @param tokenIds  the token, or A and B
     * @param unsteered without the interventions
     * @param steered   with them
     */
    public record TargetChange(String kind, String label, List<Integer> tokenIds, Measure unsteered, Measure steered) {
        public TargetChange {
            tokenIds = List.copyOf(tokenIds);
        }
    }

    /**
     * @param logit       the logit (or logit difference)
     * @param probability the softmax probability over the whole vocabulary; null for a difference
     */
    public record Measure(double logit, Double probability) {
    }

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

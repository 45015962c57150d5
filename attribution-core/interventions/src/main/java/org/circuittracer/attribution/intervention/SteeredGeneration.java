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
     * The {@code k} largest logits of one step, descending (ties to the lower token id), and the logits of the
     * watched tokens whatever their rank (e.g. a graph's target token, so its change is exact even far below the top k).
     *
     * @param chosen        the token generated at this step
     * @param tokenIds      the top-k token ids
     * @param logits        their logits
     * @param logSumExp     {@code log Σ_v exp(logit_v)} over the whole vocabulary, so that a token's probability is
     *                      {@code exp(logit − logSumExp)}; NaN when unknown
     * @param watchedIds    the watched token ids, as asked for
     * @param watchedLogits their logits at this step
     */
    public record TopLogits(int chosen, int[] tokenIds, float[] logits, double logSumExp, int[] watchedIds,
                            float[] watchedLogits) {
        public TopLogits {
            tokenIds = tokenIds.clone();
            logits = logits.clone();
            watchedIds = watchedIds.clone();
            watchedLogits = watchedLogits.clone();
            if (watchedIds.length != watchedLogits.length) {
                throw new IllegalArgumentException("watchedIds and watchedLogits differ in length: "
                        + watchedIds.length + " vs " + watchedLogits.length);
            }
        }

        /** Nothing watched. */
        public TopLogits(int chosen, int[] tokenIds, float[] logits, double logSumExp) {
            this(chosen, tokenIds, logits, logSumExp, new int[0], new float[0]);
        }

        /** Without the normaliser: probabilities unknown. */
        public TopLogits(int chosen, int[] tokenIds, float[] logits) {
            this(chosen, tokenIds, logits, Double.NaN);
        }

        /** The softmax probability of the {@code k}-th candidate (NaN when {@link #logSumExp} is unknown). */
        public double probability(int k) {
            return Math.exp(logits[k] - logSumExp);
        }

        /** The logit of a watched token, or NaN when {@code tokenId} was not watched. */
        public double watchedLogit(int tokenId) {
            for (int i = 0; i < watchedIds.length; i++) {
                if (watchedIds[i] == tokenId) {
                    return watchedLogits[i];
                }
            }
            return Double.NaN;
        }

        /** The softmax probability of a watched token (NaN when not watched or {@link #logSumExp} is unknown). */
        public double watchedProbability(int tokenId) {
            return Math.exp(watchedLogit(tokenId) - logSumExp);
        }

        @Override
        public int[] watchedIds() {
            return watchedIds.clone();
        }

        @Override
        public float[] watchedLogits() {
            return watchedLogits.clone();
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

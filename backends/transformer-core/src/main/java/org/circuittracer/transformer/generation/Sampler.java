package org.circuittracer.transformer.generation;

import java.util.Arrays;
import java.util.Objects;
import java.util.Random;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.Sampling;

/**
 * Chooses generated tokens from float32 logits on the host, in double precision, as {@link Sampling} describes:
 *
 * <ul>
 *   <li><b>greedy</b> ({@code temperature == 0}): the arg-max; ties go to the lowest token id. Draws nothing.</li>
 *   <li>otherwise tokens are ranked by logit (ties: lower id first); <b>top-k</b> keeps the first {@code k} (0 = all);
 *       the weights {@code exp((logit − max) / temperature)} are normalised over those; <b>top-p</b> keeps the shortest
 *       prefix of the ranking whose probability reaches {@code p} (at least one token; 1 = all); one uniform number
 *       from {@link Random}{@code (seed)} then picks a token by walking the ranking.</li>
 * </ul>
 *
 * <p>One sampler serves one generation: its generator is seeded once and advances by one draw per sampled token, so
 * the same request gives the same tokens on every run and every machine ({@link Random}'s algorithm is fixed by its
 * specification). Tokens whose logit is −∞ (e.g. banned by a hook) are never chosen; +∞ logits share all the
 * probability equally. Not thread-safe.
 */
public final class Sampler {

    private final Sampling sampling;
    private final Random random;

    public Sampler(Sampling sampling) {
        this.sampling = Objects.requireNonNull(sampling, "sampling");
        this.random = new Random(sampling.seed());
    }

    /**
     * Chooses the next token.
     *
     * @param logits {@code [V]} the logits of the new position (after any soft-cap)
     * @return a token id in {@code [0, V)}
     * @throws CircuitTracerException INVALID_ARGUMENT if the logits contain NaN or are all −∞ (typically a hook's doing)
     */
    public int next(float[] logits) {
        check(logits);
        if (sampling.isGreedy()) {
            return argMax(logits);
        }
        int[] ranking = ranking(logits);
        int kept = sampling.topK() > 0 ? Math.min(sampling.topK(), ranking.length) : ranking.length;
        double max = logits[ranking[0]];
        double[] weights = new double[kept];
        if (max == Double.POSITIVE_INFINITY) {
            for (int i = 0; i < kept; i++) {
                weights[i] = logits[ranking[i]] == Float.POSITIVE_INFINITY ? 1 : 0;
            }
        } else {
            for (int i = 0; i < kept; i++) {
                weights[i] = Math.exp((logits[ranking[i]] - max) / sampling.temperature());
            }
        }
        double total = 0;
        for (double w : weights) {
            total += w;
        }
        if (sampling.topP() < 1) {
            double cumulative = 0;
            int nucleus = 0;
            while (nucleus < kept) {
                cumulative += weights[nucleus++];
                if (cumulative >= sampling.topP() * total) {
                    break;
                }
            }
            kept = nucleus;
            total = cumulative;
        }
        double u = random.nextDouble() * total;
        double cumulative = 0;
        for (int i = 0; i < kept; i++) {
            cumulative += weights[i];
            if (u < cumulative) {
                return ranking[i];
            }
        }
        // rounding: u lies within the last ulp of the total; take the last token that has probability
        for (int i = kept - 1; i > 0; i--) {
            if (weights[i] > 0) {
                return ranking[i];
            }
        }
        return ranking[0];
    }

    /** The index of the largest logit; the lowest such index on ties. */
    public static int argMax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Token ids by descending logit, ties by ascending id. */
    static int[] ranking(float[] logits) {
        long[] keys = new long[logits.length];
        for (int id = 0; id < logits.length; id++) {
            int bits = Float.floatToIntBits(logits[id] == 0f ? 0f : logits[id]); // −0 ranks as +0
            int ordered = bits >= 0 ? bits : bits ^ Integer.MAX_VALUE; // int order = float order
            keys[id] = ((long) ordered << 32) | (Integer.MAX_VALUE - id); // lower id = larger key on ties
        }
        Arrays.sort(keys);
        int[] ranking = new int[logits.length];
        for (int i = 0; i < ranking.length; i++) {
            ranking[i] = Integer.MAX_VALUE - (int) keys[keys.length - 1 - i];
        }
        return ranking;
    }

    private static void check(float[] logits) {
        if (logits.length == 0) {
            throw new IllegalArgumentException("no logits");
        }
        boolean anyFinite = false;
        for (int id = 0; id < logits.length; id++) {
            if (Float.isNaN(logits[id])) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The logit of token " + id
                        + " is NaN, so no token can be chosen. Check the hooks of this generation (a replace or add "
                        + "with NaN or infinite values, or an attention pattern that no longer sums to 1).");
            }
            anyFinite |= logits[id] != Float.NEGATIVE_INFINITY;
        }
        if (!anyFinite) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Every logit is −∞, so no token can be "
                    + "chosen. Check the hooks of this generation: they ban every token.");
        }
    }
}

package org.circuittracer.spi.model;

import java.util.Arrays;
import java.util.Objects;
import org.circuittracer.spi.CircuitTracerException;

/**
 * The pre-softmax attention score of one {@link QkQuery}, split over sources (docs/attention.md, "QK attribution").
 * With norm scales frozen the query at position {@code q} is linear in the residual there, {@code Σ_a Q_a + Q_c} (the
 * sources' parts and the rest: biases, and whatever no source wrote), and likewise the key at {@code k}; so
 * {@code score = Σ_{a,b} pairwise[a, b] + Σ_a queryMarginal[a] + Σ_b keyMarginal[b] + constant} exactly.
 *
 * @param query          what was explained
 * @param sources        {@code S}
 * @param pairwise       {@code [S, S]} row-major: {@code scale · ⟨Q_a, K_b⟩}, source {@code a} at the query
 *                       position against source {@code b} at the key position
 * @param queryMarginal  {@code [S]}: {@code scale · ⟨Q_a, K_c⟩}, a source at the query against the key's rest
 * @param keyMarginal    {@code [S]}: {@code scale · ⟨Q_c, K_b⟩}, the query's rest against a source at the key
 * @param constant       {@code scale · ⟨Q_c, K_c⟩}
 * @param score          the score itself, {@code scale · ⟨q, k⟩} of the clean pass (before any soft-cap and the mask)
 * @param logit          what the softmax takes for this query and key: the score after any soft-cap
 *                       ({@code c·tanh(score / c)}, Gemma 2), before the mask; equal to the score without a cap
 */
public record QkAttribution(QkQuery query, int sources, float[] pairwise, float[] queryMarginal, float[] keyMarginal,
                            float constant, float score, float logit) {

    public QkAttribution {
        Objects.requireNonNull(query, "query");
        if (sources < 0 || pairwise.length != (long) sources * sources || queryMarginal.length != sources
                || keyMarginal.length != sources) {
            throw CircuitTracerException.invalidArgument("QK terms of " + sources + " sources need " + sources + "² "
                    + "pairwise terms and " + sources + " marginals on each side; got " + pairwise.length + ", "
                    + queryMarginal.length + " and " + keyMarginal.length + ".");
        }
        pairwise = pairwise.clone();
        queryMarginal = queryMarginal.clone();
        keyMarginal = keyMarginal.clone();
    }

    /** {@code scale · ⟨Q_a, K_b⟩}. */
    public float pair(int queryAt, int keyAt) {
        return pairwise[queryAt * sources + keyAt];
    }

    @Override
    public float[] pairwise() {
        return pairwise.clone();
    }

    @Override
    public float[] queryMarginal() {
        return queryMarginal.clone();
    }

    @Override
    public float[] keyMarginal() {
        return keyMarginal.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof QkAttribution that && query.equals(that.query) && sources == that.sources
                && Arrays.equals(pairwise, that.pairwise) && Arrays.equals(queryMarginal, that.queryMarginal)
                && Arrays.equals(keyMarginal, that.keyMarginal) && Float.compare(constant, that.constant) == 0
                && Float.compare(score, that.score) == 0 && Float.compare(logit, that.logit) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(query, sources, Arrays.hashCode(pairwise), Arrays.hashCode(queryMarginal),
                Arrays.hashCode(keyMarginal), constant, score, logit);
    }

    @Override
    public String toString() {
        return "QkAttribution[" + query + ", " + sources + " sources, score " + score + "]";
    }
}

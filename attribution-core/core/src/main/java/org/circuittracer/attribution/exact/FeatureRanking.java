package org.circuittracer.attribution.exact;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * Influence-ordered feature selection (docs/reference/algorithm.md §3.9, Appendix B {@code PARTIAL_INFLUENCE}): how much of the
 * weighted logits' absolute input flows from each node through the rows computed so far.
 */
final class FeatureRanking {

    /** Row sums below this are clamped (the reference's value for partial influence). */
    static final double ROW_SUM_FLOOR = 1e-8;
    /** Propagation steps before giving up (the reference's cap). */
    static final int MAX_STEPS = 128;

    private FeatureRanking() {
    }

    /**
     * {@code Σ_{k ≥ 1} w·Wᵏ} restricted to the computed rows, where {@code W} holds the computed rows, absolute and
     * row-normalised, and {@code w} is the logit weights on the logit nodes. Excludes the initial weights. Computed in
     * double precision by sparse scatters.
     *
     * @param columns    the size of the node space, {@code N_act + (L+1)·T + K}
     * @param logitStart the first logit node, {@code N_act + (L+1)·T}
     */
    static double[] partialInfluence(EdgeRows rows, float[] logitWeights, int columns, int logitStart) {
        double[] current = new double[columns];
        for (int k = 0; k < logitWeights.length; k++) {
            current[logitStart + k] = logitWeights[k];
        }
        double[] influence = new double[columns];
        double[] next = new double[columns];
        EdgeRows.Reader reader = rows.reader();
        for (int step = 0; step < MAX_STEPS; step++) {
            Arrays.fill(next, 0);
            boolean[] any = {false};
            double[] from = current;
            double[] to = next;
            for (int r = 0; r < rows.size(); r++) {
                double coefficient = from[rows.node(r)];
                if (coefficient == 0 || rows.length(r) == 0) {
                    continue;
                }
                double scale = coefficient / Math.max(rows.absoluteSum(r), ROW_SUM_FLOOR);
                reader.read(r, (row, cols, weights, length) -> {
                    for (int i = 0; i < length; i++) {
                        to[cols[i]] += scale * Math.abs(weights[i]);
                    }
                    any[0] = true;
                });
            }
            if (!any[0]) {
                return influence;
            }
            for (int c = 0; c < columns; c++) {
                influence[c] += next[c];
            }
            double[] swap = current;
            current = next;
            next = swap;
        }
        throw new CircuitTracerException(StandardErrorCode.INTERNAL, "The partial influence did not vanish after "
                + MAX_STEPS + " steps; the graph has a cycle, which direct effects cannot produce.");
    }

    /**
     * Active indices {@code [0, features)} by descending influence. The sort is stable and ties go to the lower active
     * index (the reference's sort is unstable, so its order among ties, e.g. the many zero influences early on, is
     * implementation-dependent).
     */
    static int[] rank(double[] influence, int features) {
        return IntStream.range(0, features).boxed()
                .sorted((a, b) -> Double.compare(influence[b], influence[a]))
                .mapToInt(Integer::intValue).toArray();
    }
}

package org.circuittracer.attribution.prune;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.graph.EdgeMatrix;

/**
 * Influence on a sparse adjacency {@code A[target, source]} (docs/reference/algorithm.md §5.1), in double precision:
 * {@code Â[t, s] = |A[t, s]| / max(Σ_s' |A[t, s']|, 1e-10)} and {@code influence(Â, w) = Σ_{k ≥ 1} w·Âᵏ}. Each power
 * is one pass over the stored entries (a row vector times a CSR matrix is a scatter), and the series ends with an
 * exactly-zero term after at most the longest path, because attribution graphs are acyclic.
 */
public final class Influence {

    /** Row sums below this are clamped in the normalisation. */
    public static final double ROW_SUM_FLOOR = 1e-10;
    /** Powers computed before giving up (the reference's cap). */
    public static final int MAX_POWERS = 1000;

    private Influence() {
    }

    /** {@code 1 / max(Σ_s |A[t, s]|, 1e-10)} per row: the factor that turns row {@code t} into {@code Â[t, ·]}. */
    public static double[] rowScales(EdgeMatrix a) {
        int[] rowStart = a.rowStart();
        float[] weights = a.weights();
        double[] scales = new double[a.size()];
        for (int t = 0; t < a.size(); t++) {
            double sum = 0;
            for (int i = rowStart[t]; i < rowStart[t + 1]; i++) {
                sum += Math.abs(weights[i]);
            }
            scales[t] = 1 / Math.max(sum, ROW_SUM_FLOOR);
        }
        return scales;
    }

    /**
     * {@code Σ_{k ≥ 1} w·Âᵏ}: for each node, the weighted fraction of the targets' absolute input that flows from it
     * along all paths. Equals {@code w·((I − Â)⁻¹ − I)}.
     *
     * @param w one weight per node (e.g. the logit probabilities on the logit nodes, zero elsewhere)
     * @throws CircuitTracerException INTERNAL when the series does not end (a cycle)
     */
    public static double[] influence(EdgeMatrix a, double[] w) {
        int n = a.size();
        if (w.length != n) {
            throw new IllegalArgumentException("weights have length " + w.length + " for " + n + " nodes");
        }
        int[] rowStart = a.rowStart();
        int[] columns = a.columns();
        float[] weights = a.weights();
        double[] scales = rowScales(a);
        double[] total = new double[n];
        double[] current = w.clone();
        double[] next = new double[n];
        for (int power = 0; power <= MAX_POWERS; power++) {
            java.util.Arrays.fill(next, 0);
            boolean any = false;
            for (int t = 0; t < n; t++) {
                double coefficient = current[t];
                if (coefficient == 0 || rowStart[t] == rowStart[t + 1]) {
                    continue;
                }
                double scale = coefficient * scales[t];
                for (int i = rowStart[t]; i < rowStart[t + 1]; i++) {
                    double v = scale * Math.abs(weights[i]);
                    if (v != 0) {
                        next[columns[i]] += v;
                        any = true;
                    }
                }
            }
            if (!any) {
                return total;
            }
            for (int s = 0; s < n; s++) {
                total[s] += next[s];
            }
            double[] swap = current;
            current = next;
            next = swap;
        }
        throw new CircuitTracerException(StandardErrorCode.INTERNAL, "Influence did not vanish after " + MAX_POWERS
                + " powers of the adjacency matrix; the graph has a cycle, which attribution graphs cannot have.");
    }

    /**
     * Edge scores {@code E[t, s] = Â[t, s] · (I[t] + w[t])} with {@code I = influence(Â, w)}, one per stored entry of
     * {@code a} (in storage order).
     */
    public static double[] edgeScores(EdgeMatrix a, double[] w) {
        double[] influence = influence(a, w);
        double[] scales = rowScales(a);
        int[] rowStart = a.rowStart();
        float[] weights = a.weights();
        double[] scores = new double[weights.length];
        for (int t = 0; t < a.size(); t++) {
            double factor = scales[t] * (influence[t] + w[t]);
            for (int i = rowStart[t]; i < rowStart[t + 1]; i++) {
                scores[i] = Math.abs(weights[i]) * factor;
            }
        }
        return scores;
    }
}

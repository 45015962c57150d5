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
        return rowScales(a, null);
    }

    /**
     * The same for {@code A} restricted to the nodes in {@code keep} (rows and columns of other nodes are zero; their
     * scale is 0). {@code keep == null} means every node.
     */
    public static double[] rowScales(EdgeMatrix a, boolean[] keep) {
        double[] scales = new double[a.size()];
        a.forEachRow((t, columns, weights, from, to) -> {
            if (keep != null && !keep[t]) {
                return;
            }
            double sum = 0;
            for (int i = from; i < to; i++) {
                if (keep == null || keep[columns[i]]) {
                    sum += Math.abs(weights[i]);
                }
            }
            scales[t] = 1 / Math.max(sum, ROW_SUM_FLOOR);
        });
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
        return influence(a, w, null);
    }

    /**
     * The same on {@code A} restricted to the nodes in {@code keep} ({@code null}: every node), which is the
     * influence on the masked matrix of {@code prune_graph} without building it. Each power is one pass over the
     * stored entries, so a matrix on disk is read once per power.
     */
    public static double[] influence(EdgeMatrix a, double[] w, boolean[] keep) {
        int n = a.size();
        if (w.length != n) {
            throw new IllegalArgumentException("weights have length " + w.length + " for " + n + " nodes");
        }
        Propagated once = inTopologicalOrder(a, w, keep);
        if (once != null) {
            return once.influence();
        }
        double[] scales = rowScales(a, keep);
        double[] total = new double[n];
        double[] current = w.clone();
        if (keep != null) {
            for (int t = 0; t < n; t++) {
                current[t] = keep[t] ? current[t] : 0;
            }
        }
        double[] next = new double[n];
        for (int power = 0; power <= MAX_POWERS; power++) {
            java.util.Arrays.fill(next, 0);
            boolean[] any = {false};
            double[] from = current;
            double[] to = next;
            a.forEachRow((t, columns, weights, start, end) -> {
                double coefficient = from[t];
                if (coefficient == 0 || start == end) {
                    return;
                }
                double scale = coefficient * scales[t];
                for (int i = start; i < end; i++) {
                    if (keep != null && !keep[columns[i]]) {
                        continue;
                    }
                    double v = scale * Math.abs(weights[i]);
                    if (v != 0) {
                        to[columns[i]] += v;
                        any[0] = true;
                    }
                }
            });
            if (!any[0]) {
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
     * {@code a} (in storage order). Holds one double per entry: for small matrices; pruning scores edges as it goes.
     */
    public static double[] edgeScores(EdgeMatrix a, double[] w) {
        double[] factors = edgeFactors(a, w, null);
        double[] scores = new double[a.nonZeros()];
        a.forEachRow((t, columns, weights, from, to) -> {
            int at = a.rowOffset(t);
            for (int i = from; i < to; i++) {
                scores[at + i - from] = Math.abs(weights[i]) * factors[t];
            }
        });
        return scores;
    }

    /**
     * Per row, {@code scale[t] · (I[t] + w[t])} on {@code A} restricted to {@code keep}: an entry's edge score is its
     * {@code |weight|} times its row's factor (0 for rows or columns outside {@code keep}).
     */
    public static double[] edgeFactors(EdgeMatrix a, double[] w, boolean[] keep) {
        Propagated once = inTopologicalOrder(a, w, keep);
        double[] influence = once != null ? once.influence() : influence(a, w, keep);
        double[] scales = once != null ? once.scales() : rowScales(a, keep);
        double[] factors = new double[a.size()];
        for (int t = 0; t < factors.length; t++) {
            factors[t] = keep != null && !keep[t] ? 0 : scales[t] * (influence[t] + w[t]);
        }
        return factors;
    }

    /** Influence and row scales from one pass. */
    private record Propagated(double[] influence, double[] scales) {
    }

    /**
     * The series in one pass when every stored entry {@code (t, s)} either points to a lower node ({@code s < t}) or
     * to a node without a row (tokens, errors): then, visiting rows from the last, a node's total mass
     * {@code w[t] + I[t]} is complete before its row passes it on, and {@code I[s] = Σ_t (w[t] + I[t])·Â[t, s]}.
     * Attribution graphs are ordered so (features by layer, then errors, tokens, logits), which saves one pass over the
     * edges per power — the difference between seconds and minutes when every feature's edges are on disk. Returns
     * null for any other matrix (the power series then handles it).
     */
    private static Propagated inTopologicalOrder(EdgeMatrix a, double[] w, boolean[] keep) {
        int n = a.size();
        double[] influence = new double[n];
        double[] scales = new double[n];
        boolean[] ordered = {true};
        a.forEachRowDescending((t, columns, weights, from, to) -> {
            if (!ordered[0] || keep != null && !keep[t] || from == to) {
                return;
            }
            double sum = 0;
            for (int i = from; i < to; i++) {
                int s = columns[i];
                if (keep != null && !keep[s]) {
                    continue;
                }
                if (s >= t && a.rowSize(s) > 0) {
                    ordered[0] = false;
                    return;
                }
                sum += Math.abs(weights[i]);
            }
            scales[t] = 1 / Math.max(sum, ROW_SUM_FLOOR);
            double mass = w[t] + influence[t];
            if (mass == 0) {
                return;
            }
            double scale = mass * scales[t];
            for (int i = from; i < to; i++) {
                int s = columns[i];
                if (keep == null || keep[s]) {
                    influence[s] += scale * Math.abs(weights[i]);
                }
            }
        });
        return ordered[0] ? new Propagated(influence, scales) : null;
    }
}

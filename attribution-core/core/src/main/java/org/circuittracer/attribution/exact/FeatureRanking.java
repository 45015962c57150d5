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
        double[] once = inTopologicalOrder(rows, logitWeights, columns, logitStart);
        return once != null ? once : powerSeries(rows, logitWeights, columns, logitStart);
    }

    /**
     * The same series in one pass over the rows: logit rows first (nothing feeds them), then feature rows from the
     * highest node down. A feature's sources are features of lower layers, i.e. lower active indices (or errors and
     * tokens, which have no rows), so a node's total mass {@code w[t] + I[t]} is complete before its row passes it on.
     * Ranking runs every few batches over every row so far; one pass instead of one per path length. Returns null if
     * some row feeds a node whose row comes earlier (never for attribution rows; the power series then decides).
     */
    static double[] inTopologicalOrder(EdgeRows rows, float[] logitWeights, int columns, int logitStart) {
        int n = rows.size();
        Integer[] order = new Integer[n];
        boolean[] hasRow = new boolean[columns];
        for (int r = 0; r < n; r++) {
            order[r] = r;
            hasRow[rows.node(r)] = true;
        }
        // logit rows in computation order, then features by node, descending
        Arrays.sort(order, (a, b) -> {
            boolean logitA = rows.node(a) >= logitStart;
            boolean logitB = rows.node(b) >= logitStart;
            if (logitA != logitB) {
                return logitA ? -1 : 1;
            }
            return logitA ? Integer.compare(a, b) : Integer.compare(rows.node(b), rows.node(a));
        });
        double[] influence = new double[columns];
        boolean[] passed = new boolean[columns]; // nodes whose row has passed on its mass
        EdgeRows.Reader reader = rows.reader();
        boolean[] ordered = {true};
        for (int r : order) {
            int node = rows.node(r);
            double mass = (node >= logitStart ? logitWeights[node - logitStart] : 0) + influence[node];
            passed[node] = true;
            if (mass == 0 || rows.length(r) == 0) {
                continue;
            }
            double scale = mass / Math.max(rows.absoluteSum(r), ROW_SUM_FLOOR);
            reader.read(r, (row, cols, weights, length) -> {
                for (int i = 0; i < length; i++) {
                    int s = cols[i];
                    if (passed[s] && hasRow[s]) {
                        ordered[0] = false; // s already passed on a mass this row is still adding to
                    }
                    influence[s] += scale * Math.abs(weights[i]);
                }
            });
            if (!ordered[0]) {
                return null;
            }
        }
        return influence;
    }

    /** The series power by power (any order of rows). */
    static double[] powerSeries(EdgeRows rows, float[] logitWeights, int columns, int logitStart) {
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
                int[] held = rows.heldColumns(r);
                if (held != null) {
                    // the common case, a plain loop: ranking runs every few batches over every row so far
                    float[] weights = rows.heldWeights(r);
                    for (int i = 0; i < held.length; i++) {
                        to[held[i]] += scale * Math.abs(weights[i]);
                    }
                    any[0] = true;
                    continue;
                }
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

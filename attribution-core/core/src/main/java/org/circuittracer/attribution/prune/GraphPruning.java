package org.circuittracer.attribution.prune;

import java.util.Arrays;
import java.util.BitSet;
import java.util.stream.IntStream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.EdgeMatrix;

/**
 * {@code prune_graph} (docs/reference/algorithm.md §5.2) on the sparse adjacency: nodes by cumulative influence on the weighted
 * logits, then edges by cumulative edge score, then a clean-up that removes features and errors without kept outgoing
 * edges and features without kept incoming edges, until nothing changes. Token and logit nodes are always kept.
 *
 * <p>Ties at a threshold are all kept. Ranks among equal scores (for the cumulative scores) go to the lower node index.
 * Edge masks cover the stored (non-zero) entries; see {@link PruneResult#unstoredEdgesKept()} for the one degenerate
 * case where the reference also keeps zero entries — the clean-up then removes nothing, as in the reference.
 */
public final class GraphPruning {

    /** The reference's default node threshold. */
    public static final double DEFAULT_NODE_THRESHOLD = 0.8;
    /** The reference's default edge threshold. */
    public static final double DEFAULT_EDGE_THRESHOLD = 0.98;

    private GraphPruning() {
    }

    /** Prunes with the default thresholds 0.8 and 0.98. */
    public static PruneResult prune(AttributionGraph graph) {
        return prune(graph, DEFAULT_NODE_THRESHOLD, DEFAULT_EDGE_THRESHOLD);
    }

    /**
     * @throws CircuitTracerException INVALID_ARGUMENT when a threshold lies outside {@code [0, 1]}
     */
    public static PruneResult prune(AttributionGraph graph, double nodeThreshold, double edgeThreshold) {
        return prune(graph.adjacency(), logitWeights(graph), graph.selected().size(), graph.tokens().length(),
                nodeThreshold, edgeThreshold);
    }

    /**
     * The same on a bare matrix whose last {@code logitWeights.length} nodes are the logits, preceded by
     * {@code tokens} token nodes, with the first {@code features} nodes being features.
     *
     * @param logitWeights one weight per logit node (their probabilities)
     */
    public static PruneResult prune(EdgeMatrix a, double[] logitWeights, int features, int tokens, double nodeThreshold,
                                    double edgeThreshold) {
        checkThreshold("node", nodeThreshold);
        checkThreshold("edge", edgeThreshold);
        int n = a.size();
        int k = logitWeights.length;
        double[] w = new double[n];
        System.arraycopy(logitWeights, 0, w, n - k, k);

        double[] influence = Influence.influence(a, w);
        boolean[] keep = new boolean[n];
        double nodeCut = threshold(influence, 0, nodeThreshold);
        for (int i = 0; i < n; i++) {
            keep[i] = influence[i] >= nodeCut || i >= n - k - tokens;
        }

        // edge scores on the matrix masked to the kept nodes, computed per entry as |A[t,s]|·factor[t] on each pass
        // (never one double per entry: every feature of a long prompt has hundreds of millions of entries)
        double[] factors = Influence.edgeFactors(a, w, keep);
        EdgeScores scores = visitor -> a.forEachRow((t, columns, weights, from, to) -> {
            double factor = factors[t];
            for (int i = from; i < to; i++) {
                visitor.score(factor == 0 || !keep[columns[i]] ? 0 : Math.abs(weights[i]) * factor);
            }
        });
        long unstored = (long) n * n - a.nonZeros();
        double edgeCut = EdgeThreshold.find(scores, unstored, edgeThreshold);
        BitSet edge = new BitSet(a.nonZeros());
        a.forEachRow((t, columns, weights, from, to) -> {
            double factor = factors[t];
            int at = a.rowOffset(t) - from;
            for (int i = from; i < to; i++) {
                double score = factor == 0 || !keep[columns[i]] ? 0 : Math.abs(weights[i]) * factor;
                if (score >= edgeCut) {
                    edge.set(at + i);
                }
            }
        });
        boolean unstoredKept = unstored > 0 && edgeCut <= 0;

        if (!unstoredKept) {
            cleanUp(a, edge, keep, n - k - tokens, features);
        }
        return new PruneResult(keep, edge, cumulativeScores(influence), unstoredKept, influence);
    }

    /** Removes nodes without kept outgoing (features, errors) or incoming (features) edges until stable. */
    private static void cleanUp(EdgeMatrix a, BitSet edge, boolean[] keep, int sourceBound, int features) {
        int n = a.size();
        boolean first = true;
        while (true) {
            boolean[] old = keep.clone();
            boolean[] hasOutgoing = new boolean[n];
            boolean[] hasIncoming = new boolean[n];
            boolean dropEdges = !first;
            a.forEachRow((t, columns, weights, from, to) -> {
                int at = a.rowOffset(t) - from;
                for (int i = from; i < to; i++) {
                    if (!edge.get(at + i)) {
                        continue;
                    }
                    if (dropEdges && (!keep[t] || !keep[columns[i]])) {
                        edge.clear(at + i);
                        continue;
                    }
                    hasOutgoing[columns[i]] = true;
                    hasIncoming[t] = true;
                }
            });
            first = false;
            for (int i = 0; i < sourceBound; i++) {
                keep[i] &= hasOutgoing[i];
            }
            for (int i = 0; i < features; i++) {
                keep[i] &= hasIncoming[i];
            }
            if (Arrays.equals(keep, old)) {
                return;
            }
        }
    }

    /**
     * {@code find_threshold}: sort descending (with {@code zeros} further zero entries), take the first value whose
     * cumulative share of the total reaches {@code fraction}, or the smallest value if none does (also when the total is
     * 0, where the reference's shares are NaN).
     */
    static double threshold(double[] scores, long zeros, double fraction) {
        double[] sorted = scores.clone();
        Arrays.sort(sorted);
        double total = 0;
        for (double s : sorted) {
            total += s;
        }
        double cumulative = 0;
        for (int i = sorted.length - 1; i >= 0; i--) {
            cumulative += sorted[i];
            if (cumulative / total >= fraction) {
                return sorted[i];
            }
        }
        // never reached: the smallest entry (an unstored zero if there are any)
        return zeros > 0 || sorted.length == 0 ? 0 : sorted[0];
    }

    /** Per node, the cumulative share of total influence up to its rank (descending influence, ties by index). */
    static double[] cumulativeScores(double[] influence) {
        int n = influence.length;
        int[] order = IntStream.range(0, n).boxed()
                .sorted((x, y) -> Double.compare(influence[y], influence[x]))
                .mapToInt(Integer::intValue).toArray();
        double total = 0;
        for (double v : influence) {
            total += v;
        }
        double[] scores = new double[n];
        double cumulative = 0;
        for (int r = 0; r < n; r++) {
            cumulative += influence[order[r]];
            scores[order[r]] = cumulative / total;
        }
        return scores;
    }

    /** The logit probabilities of a graph, as influence weights. */
    static double[] logitWeights(AttributionGraph graph) {
        return graph.logits().stream().mapToDouble(l -> l.weight()).toArray();
    }

    private static void checkThreshold(String which, double value) {
        if (!(value >= 0 && value <= 1)) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "The " + which + " threshold must lie "
                    + "in [0, 1], got " + value + ".");
        }
    }
}

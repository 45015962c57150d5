package org.circuittracer.attribution.prune;

import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.EdgeMatrix;

/**
 * The graph scores of docs/reference/algorithm.md §5.3, with {@code Â = normalize(A)} and {@code I = influence(Â, w)}:
 *
 * <ul>
 *   <li>replacement score: {@code Σ_tokens I / (Σ_tokens I + Σ_errors I)}, the share of end-to-end influence that
 *       starts at tokens rather than at error nodes;</li>
 *   <li>completeness score: {@code Σ_t (1 − Σ_{s ∈ errors} Â[t, s])·(I[t] + w[t]) / Σ_t (I[t] + w[t])}, the
 *       influence-weighted share of each node's normalised input that does not come from error nodes.</li>
 * </ul>
 *
 * <p>As in the reference, nodes without inputs (tokens and error nodes) have all-zero normalised rows and count as fully
 * explained in the completeness score.
 */
public final class GraphScores {

    private GraphScores() {
    }

    /**
     * Both scores of a graph.
     *
     * @param replacement  how much of the logits' influence comes from tokens rather than errors
     * @param completeness the influence-weighted share of each node's input that does not come from errors
     */
    public record Scores(double replacement, double completeness) {
    }

    /** Both scores from one influence computation and one more pass over the edges. */
    public static Scores of(AttributionGraph graph) {
        return of(graph, Influence.influence(graph.adjacency(), weights(graph)));
    }

    /**
     * Both scores from the nodes' influence on the weighted logits, already computed (e.g. by the pruning:
     * {@link PruneResult#influence()}), and one pass over the edges.
     */
    public static Scores of(AttributionGraph graph, double[] influence) {
        EdgeMatrix a = graph.adjacency();
        double[] w = weights(graph);
        if (influence.length != a.size()) {
            throw new IllegalArgumentException("influence has " + influence.length + " entries for " + a.size()
                    + " nodes");
        }
        double tokens = 0;
        double errors = 0;
        int length = graph.tokens().length();
        for (int layer = 0; layer < graph.model().layers(); layer++) {
            for (int p = 0; p < length; p++) {
                errors += influence[graph.errorIndex(layer, p)];
            }
        }
        for (int p = 0; p < length; p++) {
            tokens += influence[graph.tokenIndex(p)];
        }
        // per row: Σ|A| (as Influence.rowScales sums it) and the part of it from error nodes
        int errorStart = graph.errorIndex(0, 0);
        int errorEnd = graph.tokenIndex(0);
        double[] rowSums = new double[a.size()];
        double[] fromErrors = new double[a.size()];
        a.forEachRow((t, columns, weights, from, to) -> {
            for (int i = from; i < to; i++) {
                double v = Math.abs(weights[i]);
                rowSums[t] += v;
                if (columns[i] >= errorStart && columns[i] < errorEnd) {
                    fromErrors[t] += v;
                }
            }
        });
        double numerator = 0;
        double denominator = 0;
        for (int t = 0; t < a.size(); t++) {
            double scale = 1 / Math.max(rowSums[t], Influence.ROW_SUM_FLOOR);
            double mass = influence[t] + w[t];
            numerator += (1 - fromErrors[t] * scale) * mass;
            denominator += mass;
        }
        return new Scores(tokens / (tokens + errors), numerator / denominator);
    }

    public static double replacementScore(AttributionGraph graph) {
        return of(graph).replacement();
    }

    public static double completenessScore(AttributionGraph graph) {
        return of(graph).completeness();
    }

    /** Zero except the logit nodes, which carry their weights. */
    static double[] weights(AttributionGraph graph) {
        double[] w = new double[graph.size()];
        for (int k = 0; k < graph.logits().size(); k++) {
            w[graph.logitIndex(k)] = graph.logits().get(k).weight();
        }
        return w;
    }
}

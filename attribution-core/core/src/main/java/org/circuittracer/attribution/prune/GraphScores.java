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

    public static double replacementScore(AttributionGraph graph) {
        double[] influence = Influence.influence(graph.adjacency(), weights(graph));
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
        return tokens / (tokens + errors);
    }

    public static double completenessScore(AttributionGraph graph) {
        EdgeMatrix a = graph.adjacency();
        double[] w = weights(graph);
        double[] influence = Influence.influence(a, w);
        double[] scales = Influence.rowScales(a);
        int errorStart = graph.errorIndex(0, 0);
        int errorEnd = graph.tokenIndex(0);
        double[] fromErrors = new double[a.size()];
        a.forEachRow((t, columns, weights, from, to) -> {
            for (int i = from; i < to; i++) {
                if (columns[i] >= errorStart && columns[i] < errorEnd) {
                    fromErrors[t] += Math.abs(weights[i]);
                }
            }
        });
        double numerator = 0;
        double denominator = 0;
        for (int t = 0; t < a.size(); t++) {
            double mass = influence[t] + w[t];
            numerator += (1 - fromErrors[t] * scales[t]) * mass;
            denominator += mass;
        }
        return numerator / denominator;
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

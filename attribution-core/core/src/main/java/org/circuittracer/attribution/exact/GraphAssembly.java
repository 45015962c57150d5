package org.circuittracer.attribution.exact;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.circuittracer.attribution.replacement.ActiveFeatures;
import org.circuittracer.attribution.targets.LogitTarget;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.EdgeMatrix;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;

/**
 * Phase 5 (docs/reference/algorithm.md §3.10): computed rows into the graph's sparse adjacency. Feature rows go first in ascending
 * active index, error and token rows stay empty, logit rows go last in target order; columns of unselected features are
 * dropped (not folded into errors), error and token columns shift down to follow the {@code M} kept features.
 */
final class GraphAssembly {

    private GraphAssembly() {
    }

    /**
     * @param selected ascending active indices of the feature nodes
     * @param rows     every computed row: one per logit target (node {@code N_act + (L+1)·T + k}) and one per selected
     *                 feature (node = its active index)
     */
    static AttributionGraph assemble(ModelConfig config, TokenSequence tokens, String inputString, ActiveFeatures active,
                                     int[] selected, List<LogitTarget> targets, EdgeRows rows, int vocabularySize,
                                     String scan) {
        int nAct = active.size();
        int m = selected.length;
        int length = tokens.length();
        int layers = config.layers();
        int k = targets.size();
        int size = m + (layers + 1) * length + k;
        int logitNodeStart = nAct + (layers + 1) * length;
        int[] featureColumn = new int[nAct];
        Arrays.fill(featureColumn, -1);
        for (int j = 0; j < m; j++) {
            featureColumn[selected[j]] = j;
        }
        // graph row → computed row
        int[] rowOf = new int[size];
        Arrays.fill(rowOf, -1);
        for (int r = 0; r < rows.size(); r++) {
            int node = rows.node(r);
            int graphRow = node >= logitNodeStart ? m + (layers + 1) * length + (node - logitNodeStart)
                    : featureColumn[node];
            if (graphRow < 0) {
                throw new IllegalStateException("row of unselected feature " + node);
            }
            rowOf[graphRow] = r;
        }
        long nnz = 0;
        for (int g = 0; g < size; g++) {
            if (rowOf[g] >= 0) {
                nnz += rows.columns(rowOf[g]).length;
            }
        }
        if (nnz > Integer.MAX_VALUE - 8) {
            throw new CircuitTracerException(StandardErrorCode.OUT_OF_RESOURCES,
                    "The graph has " + nnz + " edges, more than one sparse matrix can hold; lower max-feature-nodes.");
        }
        int[] rowStart = new int[size + 1];
        int[] columns = new int[(int) nnz];
        float[] weights = new float[(int) nnz];
        int at = 0;
        for (int g = 0; g < size; g++) {
            int r = rowOf[g];
            if (r >= 0) {
                int[] cols = rows.columns(r);
                float[] ws = rows.weights(r);
                for (int i = 0; i < cols.length; i++) {
                    int c = cols[i];
                    int mapped = c < nAct ? featureColumn[c] : m + (c - nAct);
                    if (mapped >= 0) {
                        columns[at] = mapped;
                        weights[at++] = ws[i];
                    }
                }
            }
            rowStart[g + 1] = at;
        }
        EdgeMatrix adjacency = new EdgeMatrix(size, rowStart, Arrays.copyOf(columns, at), Arrays.copyOf(weights, at));
        List<Node.FeatureNode> selectedNodes = new ArrayList<>(m);
        for (int i : selected) {
            selectedNodes.add(active.node(i));
        }
        List<Node.LogitNode> logits = new ArrayList<>(k);
        for (LogitTarget target : targets) {
            logits.add(new Node.LogitNode(length - 1, target.vocabIndex(), target.label(), target.weight()));
        }
        return new AttributionGraph(config, tokens, inputString, active.nodes(), selectedNodes, logits, adjacency,
                vocabularySize, scan);
    }
}

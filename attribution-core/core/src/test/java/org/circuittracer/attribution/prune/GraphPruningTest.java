package org.circuittracer.attribution.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.exact.ExactAttributorProvider;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.attribution.AttributorOptions;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.EdgeMatrix;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Sparse pruning and scores against a dense transcription of the reference's {@code PRUNE} on real graphs. */
class GraphPruningTest {

    private static final Map<String, AttributionGraph> GRAPHS = new HashMap<>();

    static Stream<TinyFixtures.Pair> pairs() {
        return TinyFixtures.PAIRS.stream();
    }

    static synchronized AttributionGraph graph(TinyFixtures.Pair pair) {
        return GRAPHS.computeIfAbsent(pair.dictionary(), n -> {
            try (TransformerModel model = TinyFixtures.openModel(pair.model());
                 SparseDictionary dictionary = TinyFixtures.openDictionary(pair.dictionary())) {
                return new ExactAttributorProvider().create(AttributorOptions.none(ExactAttributorProvider.NAME)).attribute(new AttributionRequest(model, dictionary,
                        TinyFixtures.prompt(pair.model(), 0), AttributionTargets.Salient.defaults(), 0, 64, 4),
                        AttributionListener.NONE);
            }
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void sparsePruningEqualsTheDenseReference(TinyFixtures.Pair pair) {
        AttributionGraph graph = graph(pair);
        // Not 1.0: there the cut is the first node whose cumulative share reaches exactly 1, which float rounding of
        // the sum decides among the nodes of the negligible tail, differently for two summation orders.
        for (double[] thresholds : new double[][] {{0.8, 0.98}, {0.5, 0.9}, {0.99, 0.995}, {0.0, 0.5}}) {
            PruneResult sparse = GraphPruning.prune(graph, thresholds[0], thresholds[1]);
            DenseResult dense = densePrune(graph, thresholds[0], thresholds[1]);
            assertThat(sparse.nodeMask()).as("nodes at %s", Arrays.toString(thresholds)).isEqualTo(dense.nodeMask);
            EdgeMatrix a = graph.adjacency();
            int[] rowStart = a.rowStart();
            int[] columns = a.columns();
            boolean[] edges = sparse.edgeMask(a.nonZeros());
            for (int t = 0; t < graph.size(); t++) {
                for (int i = rowStart[t]; i < rowStart[t + 1]; i++) {
                    assertThat(edges[i]).as("edge %d ← %d", t, columns[i]).isEqualTo(dense.edgeMask[t][columns[i]]);
                }
            }
            for (int i = 0; i < graph.size(); i++) {
                assertThat(sparse.cumulativeScores()[i]).isCloseTo(dense.cumulative[i], within(1e-9));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void prunedGraphsKeepTokensAndLogitsAndConnectedFeatures(TinyFixtures.Pair pair) {
        AttributionGraph graph = graph(pair);
        PruneResult result = GraphPruning.prune(graph);
        for (int i = graph.tokenIndex(0); i < graph.size(); i++) {
            assertThat(result.keepsNode(i)).as("token and logit nodes are always kept").isTrue();
        }
        EdgeMatrix a = graph.adjacency();
        int[] rowStart = a.rowStart();
        int[] columns = a.columns();
        boolean[] edges = result.edgeMask(a.nonZeros());
        boolean[] in = new boolean[graph.size()];
        boolean[] out = new boolean[graph.size()];
        for (int t = 0; t < graph.size(); t++) {
            for (int i = rowStart[t]; i < rowStart[t + 1]; i++) {
                if (edges[i]) {
                    in[t] = true;
                    out[columns[i]] = true;
                }
            }
        }
        int features = graph.selected().size();
        for (int i = 0; i < graph.tokenIndex(0); i++) {
            if (result.keepsNode(i)) {
                assertThat(out[i]).as("kept node %d has a kept outgoing edge", i).isTrue();
                if (i < features) {
                    assertThat(in[i]).as("kept feature %d has a kept incoming edge", i).isTrue();
                }
            }
        }
        assertThat(result.keptNodes()).isLessThan(graph.size());
        assertThat(result.keptEdges()).isPositive().isLessThan(a.nonZeros());
        assertThat(Arrays.stream(result.cumulativeScores()).boxed().toList())
                .allSatisfy(c -> assertThat(c).isBetween(0.0, 1.0 + 1e-12));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void scoresLieInTheUnitIntervalAndEqualTheDenseDefinitions(TinyFixtures.Pair pair) {
        AttributionGraph graph = graph(pair);
        double replacement = GraphScores.replacementScore(graph);
        double completeness = GraphScores.completenessScore(graph);
        assertThat(replacement).isBetween(0.0, 1.0);
        assertThat(completeness).isBetween(0.0, 1.0);
        int n = graph.size();
        double[][] normalized = normalize(graph.adjacency());
        double[] w = GraphScores.weights(graph);
        double[] influence = denseInfluence(normalized, w);
        double tokens = 0;
        double errors = 0;
        for (int i = graph.errorIndex(0, 0); i < graph.tokenIndex(0); i++) {
            errors += influence[i];
        }
        for (int i = graph.tokenIndex(0); i < graph.logitIndex(0); i++) {
            tokens += influence[i];
        }
        assertThat(replacement).isCloseTo(tokens / (tokens + errors), within(1e-9));
        double numerator = 0;
        double denominator = 0;
        for (int t = 0; t < n; t++) {
            double fromErrors = 0;
            for (int s = graph.errorIndex(0, 0); s < graph.tokenIndex(0); s++) {
                fromErrors += normalized[t][s];
            }
            numerator += (1 - fromErrors) * (influence[t] + w[t]);
            denominator += influence[t] + w[t];
        }
        assertThat(completeness).isCloseTo(numerator / denominator, within(1e-9));
        // the exporter passes the pruning's influence instead of computing it again: the same scores, exactly
        assertThat(GraphScores.of(graph, GraphPruning.prune(graph).influence())).isEqualTo(GraphScores.of(graph));
    }

    @Test
    void thresholdsOutsideTheUnitIntervalAreRejected() {
        EdgeMatrix a = InfluenceTest.workedExample(false);
        assertThatThrownBy(() -> GraphPruning.prune(a, new double[] {1}, 0, 1, 1.2, 0.9))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining("node threshold");
        assertThatThrownBy(() -> GraphPruning.prune(a, new double[] {1}, 0, 1, 0.8, -0.1))
                .hasMessageContaining("edge threshold");
    }

    // ---------------------------------------------------------------- the dense transcription of Appendix B PRUNE

    private record DenseResult(boolean[] nodeMask, boolean[][] edgeMask, double[] cumulative) {
    }

    private static DenseResult densePrune(AttributionGraph graph, double nodeThreshold, double edgeThreshold) {
        int n = graph.size();
        int k = graph.logits().size();
        int tokens = graph.tokens().length();
        int features = graph.selected().size();
        double[] w = GraphScores.weights(graph);
        double[][] a = dense(graph.adjacency());
        double[] influence = denseInfluence(normalizeDense(a), w);
        double nodeCut = findThreshold(influence, nodeThreshold);
        boolean[] keep = new boolean[n];
        for (int i = 0; i < n; i++) {
            keep[i] = influence[i] >= nodeCut || i >= n - k - tokens;
        }
        double[][] masked = new double[n][n];
        for (int t = 0; t < n; t++) {
            for (int s = 0; s < n; s++) {
                masked[t][s] = keep[t] && keep[s] ? a[t][s] : 0;
            }
        }
        double[][] normalized = normalizeDense(masked);
        double[] edgeInfluence = denseInfluence(normalized, w);
        double[] all = new double[n * n];
        double[][] scores = new double[n][n];
        for (int t = 0; t < n; t++) {
            for (int s = 0; s < n; s++) {
                scores[t][s] = normalized[t][s] * (edgeInfluence[t] + w[t]);
                all[t * n + s] = scores[t][s];
            }
        }
        double edgeCut = findThreshold(all, edgeThreshold);
        boolean[][] edge = new boolean[n][n];
        for (int t = 0; t < n; t++) {
            for (int s = 0; s < n; s++) {
                edge[t][s] = scores[t][s] >= edgeCut;
            }
        }
        boolean first = true;
        while (true) {
            boolean[] old = keep.clone();
            if (!first) {
                for (int t = 0; t < n; t++) {
                    for (int s = 0; s < n; s++) {
                        if (!keep[t] || !keep[s]) {
                            edge[t][s] = false;
                        }
                    }
                }
            }
            first = false;
            for (int i = 0; i < n - k - tokens; i++) {
                boolean any = false;
                for (int t = 0; t < n; t++) {
                    any |= edge[t][i];
                }
                keep[i] &= any;
            }
            for (int i = 0; i < features; i++) {
                boolean any = false;
                for (int s = 0; s < n; s++) {
                    any |= edge[i][s];
                }
                keep[i] &= any;
            }
            if (Arrays.equals(keep, old)) {
                break;
            }
        }
        return new DenseResult(keep, edge, GraphPruning.cumulativeScores(influence));
    }

    private static double findThreshold(double[] scores, double fraction) {
        Integer[] order = IntStream.range(0, scores.length).boxed()
                .sorted((x, y) -> Double.compare(scores[y], scores[x])).toArray(Integer[]::new);
        double total = Arrays.stream(scores).sum();
        double cumulative = 0;
        for (int i = 0; i < order.length; i++) {
            cumulative += scores[order[i]];
            if (cumulative / total >= fraction) {
                return scores[order[i]];
            }
        }
        return scores[order[order.length - 1]];
    }

    private static double[][] dense(EdgeMatrix a) {
        double[][] d = new double[a.size()][a.size()];
        for (int t = 0; t < a.size(); t++) {
            for (int i = 0; i < a.rowSize(t); i++) {
                d[t][a.columnAt(t, i)] = a.weightAt(t, i);
            }
        }
        return d;
    }

    private static double[][] normalize(EdgeMatrix a) {
        return normalizeDense(dense(a));
    }

    private static double[][] normalizeDense(double[][] a) {
        int n = a.length;
        double[][] out = new double[n][n];
        for (int t = 0; t < n; t++) {
            double sum = 0;
            for (int s = 0; s < n; s++) {
                sum += Math.abs(a[t][s]);
            }
            for (int s = 0; s < n; s++) {
                out[t][s] = Math.abs(a[t][s]) / Math.max(sum, 1e-10);
            }
        }
        return out;
    }

    /** {@code Σ_{k ≥ 1} w·Âᵏ} by dense row-vector products. */
    private static double[] denseInfluence(double[][] normalized, double[] w) {
        int n = w.length;
        double[] total = new double[n];
        double[] current = w.clone();
        for (int power = 0; power < 1000; power++) {
            double[] next = new double[n];
            boolean any = false;
            for (int t = 0; t < n; t++) {
                if (current[t] == 0) {
                    continue;
                }
                for (int s = 0; s < n; s++) {
                    if (normalized[t][s] != 0) {
                        next[s] += current[t] * normalized[t][s];
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
            current = next;
        }
        throw new AssertionError("no convergence");
    }
}

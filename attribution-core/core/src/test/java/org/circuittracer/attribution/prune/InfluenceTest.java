package org.circuittracer.attribution.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.circuittracer.spi.graph.EdgeMatrix;
import org.junit.jupiter.api.Test;

class InfluenceTest {

    /** docs/reference/algorithm.md §5.2's worked example: 12 nodes, every edge weight 10, the logit is node 11 with weight 1. */
    static EdgeMatrix workedExample(boolean withoutTwoEdges) {
        float[] dense = new float[12 * 12];
        int[][] edges = withoutTwoEdges
                ? new int[][] {{11, 1}, {11, 3}, {11, 6}, {11, 8}, {3, 1}, {3, 6}, {1, 9}, {1, 10}}
                : new int[][] {{11, 1}, {11, 3}, {11, 6}, {11, 8}, {3, 0}, {3, 1}, {3, 6}, {1, 9}, {1, 10}, {0, 9}};
        for (int[] e : edges) {
            dense[e[0] * 12 + e[1]] = 10;
        }
        return EdgeMatrix.fromDense(12, dense);
    }

    static double[] logitWeight() {
        double[] w = new double[12];
        w[11] = 1;
        return w;
    }

    @Test
    void theWorkedExamplesNodeInfluence() {
        double[] influence = Influence.influence(workedExample(false), logitWeight());
        double[] expected = {1 / 12.0, 1 / 3.0, 0, 1 / 4.0, 0, 0, 1 / 3.0, 0, 1 / 4.0, 1 / 4.0, 1 / 6.0, 0};
        for (int i = 0; i < 12; i++) {
            assertThat(influence[i]).as("node %d", i).isCloseTo(expected[i], within(1e-15));
        }
    }

    @Test
    void theWorkedExamplesEdgeScoresAfterRemovingTwoEdges() {
        EdgeMatrix a = workedExample(true);
        double[] scores = Influence.edgeScores(a, logitWeight());
        int[] rowStart = a.rowStart();
        int[] columns = a.columns();
        for (int t = 0; t < 12; t++) {
            for (int i = rowStart[t]; i < rowStart[t + 1]; i++) {
                double expected = t == 11 ? 1 / 4.0 : t == 3 ? 1 / 8.0 : t == 1 ? 3 / 16.0 : Double.NaN;
                assertThat(scores[i]).as("%d ← %d", t, columns[i]).isCloseTo(expected, within(1e-15));
            }
        }
        assertThat(scores).hasSize(8);
    }

    /** Influence equals {@code w·((I − Â)⁻¹ − I)}, by a dense solve on a random acyclic graph. */
    @Test
    void influenceEqualsTheDenseSolve() {
        int n = 30;
        Random random = new Random(3);
        float[] dense = new float[n * n];
        for (int t = 0; t < n; t++) {
            for (int s = 0; s < t; s++) {
                if (random.nextDouble() < 0.3) {
                    dense[t * n + s] = (float) random.nextGaussian();
                }
            }
        }
        EdgeMatrix a = EdgeMatrix.fromDense(n, dense);
        double[] w = new double[n];
        w[n - 1] = 0.7;
        w[n - 2] = 0.3;
        double[] influence = Influence.influence(a, w);
        // x (I − Â) = w  ⇒  influence = x − w; Â is lower triangular, so solve from the last node down
        double[][] normalized = new double[n][n];
        for (int t = 0; t < n; t++) {
            double sum = 0;
            for (int s = 0; s < n; s++) {
                sum += Math.abs(dense[t * n + s]);
            }
            for (int s = 0; s < n; s++) {
                normalized[t][s] = Math.abs(dense[t * n + s]) / Math.max(sum, 1e-10);
            }
        }
        double[] x = new double[n];
        for (int s = n - 1; s >= 0; s--) {
            double v = w[s];
            for (int t = s + 1; t < n; t++) {
                v += x[t] * normalized[t][s];
            }
            x[s] = v;
        }
        double max = 0;
        for (int i = 0; i < n; i++) {
            assertThat(influence[i]).as("node %d", i).isCloseTo(x[i] - w[i], within(1e-12));
            assertThat(influence[i]).isGreaterThanOrEqualTo(0);
            max = Math.max(max, influence[i]);
        }
        assertThat(max).isPositive();
    }

    @Test
    void findThresholdFollowsTheReference() {
        double[] scores = {1, 4, 2, 3};
        assertThat(GraphPruning.threshold(scores, 0, 0.5)).isEqualTo(3); // 0.4, 0.7 ≥ 0.5
        assertThat(GraphPruning.threshold(scores, 0, 0.4)).isEqualTo(4);
        assertThat(GraphPruning.threshold(scores, 0, 0)).isEqualTo(4);
        assertThat(GraphPruning.threshold(scores, 0, 1)).isEqualTo(1);
        assertThat(GraphPruning.threshold(scores, 5, 1)).isEqualTo(1);
        // all zero: the reference's shares are NaN and it falls through to the smallest entry
        assertThat(GraphPruning.threshold(new double[] {0, 0}, 3, 0.5)).isZero();
        double[] cumulative = GraphPruning.cumulativeScores(new double[] {1, 4, 2, 3, 0});
        assertThat(cumulative).containsExactly(1.0, 0.4, 0.9, 0.7, 1.0);
    }
}

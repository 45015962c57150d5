package org.circuittracer.attribution.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.circuittracer.attribution.prune.GraphFileScores.Kind;
import org.circuittracer.attribution.prune.GraphFileScores.Scores;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.EdgeMatrix;
import org.circuittracer.attribution.TinyFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class GraphFileScoresTest {

    private static final Kind F = Kind.FEATURE;
    private static final Kind E = Kind.ERROR;
    private static final Kind T = Kind.TOKEN;
    private static final Kind L = Kind.LOGIT;

    /**
     * f0, e1, t2, t3, L4 (w = 1); links t2→f0 3, t3→f0 −1, f0→L4 2, e1→L4 1, t3→L4 1. Â(L4) = (f0 ½, e1 ¼, t3 ¼),
     * Â(f0) = (t2 ¾, t3 ¼); I = f0 ½, e1 ¼, t2 ⅜, t3 ⅜. Replacement ¾ / (¾ + ¼) = 0.75; completeness: masses I + w sum
     * to 2.5, only L4 (mass 1) has ¼ from errors: (2.5 − 0.25) / 2.5 = 0.9.
     */
    @Test
    void aSmallGraphByHand() {
        Scores s = GraphFileScores.compute(new Kind[] {F, E, T, T, L}, new double[] {0, 0, 0, 0, 1},
                new int[] {2, 3, 0, 1, 3}, new int[] {0, 0, 4, 4, 4}, new float[] {3, -1, 2, 1, 1});
        assertThat(s.replacement()).isCloseTo(0.75, within(1e-12));
        assertThat(s.completeness()).isCloseTo(0.9, within(1e-12));
    }

    /**
     * The graph above plus an unpinned feature f5 (t2→f5 1, e6→f5 1, f5→L4 4) and an error e7→f0 1; pin f0. Kept: f0,
     * the tokens, L4 and e7 (linked to f0); e1 and e6 touch no pinned node. Â(L4) = (f0 ⅔, t3 ⅓), Â(f0) = (t2 .6, t3
     * .2, e7 .2); I = f0 ⅔, t2 .4, t3 7/15, e7 2/15: replacement 13/15; masses sum to 40/15, f0's (10/15) is .2 error:
     * completeness 38/40.
     */
    @Test
    void aPinnedSubgraphByHand() {
        Kind[] kinds = {F, E, T, T, L, F, E, E};
        double[] w = {0, 0, 0, 0, 1, 0, 0, 0};
        int[] s = {2, 3, 7, 0, 1, 3, 2, 6, 5};
        int[] t = {0, 0, 0, 4, 4, 4, 5, 5, 4};
        float[] v = {3, -1, 1, 2, 1, 1, 1, 1, 4};
        boolean[] pinned = new boolean[8];
        pinned[0] = true;
        boolean[] keep = GraphFileScores.subgraph(kinds, pinned, s, t);
        assertThat(keep).containsExactly(true, false, true, true, true, false, false, true);
        Scores sub = GraphFileScores.compute(kinds, w, s, t, v, keep);
        assertThat(sub.replacement()).isCloseTo(13 / 15.0, within(1e-12));
        assertThat(sub.completeness()).isCloseTo(38 / 40.0, within(1e-12));
        boolean[] onlyError = new boolean[8];
        onlyError[1] = true;
        assertThat(GraphFileScores.subgraph(kinds, onlyError, s, t)).isNull();
        assertThat(GraphFileScores.compute(kinds, w, s, t, v, null)).isEqualTo(new Scores(0, 0));
    }

    @Test
    void noLogitWeightGivesZeroNotNaN() {
        Scores s = GraphFileScores.compute(new Kind[] {T, L}, new double[] {0, 0}, new int[] {0}, new int[] {1},
                new float[] {1});
        assertThat(s).isEqualTo(new Scores(0, 0));
    }

    static java.util.stream.Stream<TinyFixtures.Pair> pairs() {
        return GraphPruningTest.pairs();
    }

    /** On the unpruned adjacency of a real graph, the link-list scores are {@link GraphScores}'. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void equalsGraphScoresOnTheUnprunedGraph(TinyFixtures.Pair pair) {
        AttributionGraph graph = GraphPruningTest.graph(pair);
        int n = graph.size();
        Kind[] kinds = new Kind[n];
        java.util.Arrays.fill(kinds, F);
        int errorStart = graph.errorIndex(0, 0);
        int tokenStart = graph.tokenIndex(0);
        int logitStart = graph.logitIndex(0);
        for (int i = errorStart; i < n; i++) {
            kinds[i] = i < tokenStart ? E : i < logitStart ? T : L;
        }
        double[] w = GraphScores.weights(graph);
        EdgeMatrix a = graph.adjacency();
        int m = a.nonZeros();
        int[] s = new int[m];
        int[] t = new int[m];
        float[] v = new float[m];
        int k = m;
        // reversed, to show that the link order does not matter
        for (int r = 0; r < n; r++) {
            for (int i = a.rowStart()[r]; i < a.rowStart()[r + 1]; i++) {
                k--;
                s[k] = a.columns()[i];
                t[k] = r;
                v[k] = a.weights()[i];
            }
        }
        Scores scores = GraphFileScores.compute(kinds, w, s, t, v);
        assertThat(scores.replacement()).isCloseTo(GraphScores.replacementScore(graph), within(1e-12));
        assertThat(scores.completeness()).isCloseTo(GraphScores.completenessScore(graph), within(1e-12));
    }
}

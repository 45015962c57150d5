package org.circuittracer.attribution.exact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.circuittracer.attribution.io.EdgeMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one-pass partial influence equals the power series on attribution-shaped rows, held or spilled. */
class FeatureRankingTest {

    @TempDir
    Path dir;

    /**
     * Rows as an attribution computes them: logit rows first, then feature rows in any order, each feature reading only
     * lower active indices and the error/token columns {@code [features, logitStart)}.
     */
    private EdgeRows rows(long seed, int features, int extra, int logits, long budget, boolean cyclic) {
        SplittableRandom random = new SplittableRandom(seed);
        EdgeRows rows = new EdgeRows(new EdgeMemory(budget, dir));
        int logitStart = features + extra;
        for (int k = 0; k < logits; k++) {
            add(rows, random, logitStart + k, logitStart, 40);
        }
        int[] visit = random.ints(0, features).distinct().limit(features / 2).toArray();
        for (int node : visit) {
            int bound = cyclic && node == visit[0] ? features : node; // a cycle breaks the topological order
            TreeSet<Integer> cols = new TreeSet<>();
            int count = random.nextInt(12);
            for (int i = 0; i < count && bound > 0; i++) {
                cols.add(random.nextInt(bound));
            }
            for (int i = 0; i < 3; i++) {
                cols.add(features + random.nextInt(extra));
            }
            put(rows, random, node, cols);
        }
        return rows;
    }

    private static void add(EdgeRows rows, SplittableRandom random, int node, int bound, int count) {
        TreeSet<Integer> cols = new TreeSet<>();
        for (int i = 0; i < count; i++) {
            cols.add(random.nextInt(bound));
        }
        put(rows, random, node, cols);
    }

    private static void put(EdgeRows rows, SplittableRandom random, int node, TreeSet<Integer> cols) {
        int[] c = cols.stream().mapToInt(Integer::intValue).toArray();
        float[] w = new float[c.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian();
        }
        rows.add(node, c, w);
    }

    @Test
    void onePassEqualsThePowerSeriesHeldAndSpilled() {
        float[] weights = {0.5f, 0.3f, 0.2f};
        for (long seed = 0; seed < 20; seed++) {
            for (long budget : new long[] {1L << 30, 2_000}) {
                try (EdgeRows rows = rows(seed, 300, 50, 3, budget, false)) {
                    double[] once = FeatureRanking.inTopologicalOrder(rows, weights, 353, 350);
                    double[] series = FeatureRanking.powerSeries(rows, weights, 353, 350);
                    assertThat(once).as("seed %d", seed).isNotNull();
                    assertThat(FeatureRanking.partialInfluence(rows, weights, 353, 350)).isEqualTo(once);
                    for (int i = 0; i < series.length; i++) {
                        assertThat(once[i]).as("seed %d node %d", seed, i)
                                .isCloseTo(series[i], within(1e-12 * Math.max(1, Math.abs(series[i]))));
                    }
                }
            }
        }
    }

    @Test
    void rowsOutOfTopologicalOrderFallBackToThePowerSeries() {
        float[] weights = {1f};
        int fallbacks = 0;
        for (long seed = 0; seed < 20; seed++) {
            try (EdgeRows rows = rows(seed, 200, 20, 1, 1L << 30, true)) {
                double[] once = FeatureRanking.inTopologicalOrder(rows, weights, 221, 220);
                fallbacks += once == null ? 1 : 0;
                double[] series = FeatureRanking.powerSeries(rows, weights, 221, 220);
                assertThat(FeatureRanking.partialInfluence(rows, weights, 221, 220))
                        .isEqualTo(once != null ? once : series);
            } catch (org.circuittracer.spi.CircuitTracerException cycle) {
                // a real cycle: the power series refuses it, which is what partialInfluence reports too
                fallbacks++;
            }
        }
        assertThat(fallbacks).as("some seeds make a row feed an earlier-passed node").isPositive();
    }
}

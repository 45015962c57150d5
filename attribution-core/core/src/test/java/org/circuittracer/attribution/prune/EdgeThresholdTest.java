package org.circuittracer.attribution.prune;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The streamed {@code find_threshold} gives the sort-based cut on every kind of score distribution. */
class EdgeThresholdTest {

    private static EdgeScores of(double[] scores) {
        return visitor -> {
            for (double s : scores) {
                visitor.score(s);
            }
        };
    }

    @Test
    void matchesTheSortedThresholdOnRandomScoresWithTiesZerosAndWideRanges() {
        SplittableRandom random = new SplittableRandom(11);
        double[] fractions = {0, 0.1, 0.5, 0.8, 0.9, 0.98, 0.999, 1};
        for (int trial = 0; trial < 300; trial++) {
            int n = 1 + random.nextInt(trial < 50 ? 10 : 3000);
            double[] scores = new double[n];
            int kind = trial % 4;
            for (int i = 0; i < n; i++) {
                scores[i] = switch (kind) {
                    case 0 -> random.nextDouble();                                  // uniform
                    case 1 -> random.nextInt(4) == 0 ? 0 : random.nextInt(6) * 0.25; // many ties and zeros
                    case 2 -> Math.exp(random.nextGaussian() * 20);                  // many orders of magnitude
                    default -> random.nextInt(10) == 0 ? 1e-300 * random.nextDouble() : random.nextDouble() * 1e-3;
                };
            }
            long zeros = random.nextBoolean() ? 0 : random.nextInt(1000);
            double total = java.util.Arrays.stream(scores).sum();
            for (double f : fractions) {
                double expected = GraphPruning.threshold(scores, zeros, f);
                double found = EdgeThreshold.find(of(scores), zeros, f);
                if (f == 1) {
                    // whether a running sum reaches exactly 100 % is decided by its rounding, differently for a
                    // compensated and a plain sorted sum: check that what the cut leaves out is a rounding error
                    double below = java.util.Arrays.stream(scores).filter(v -> v < found).sum();
                    assertThat(below).as("trial %d kind %d fraction 1", trial, kind).isLessThanOrEqualTo(1e-15 * total);
                } else {
                    assertThat(found).as("trial %d kind %d fraction %s", trial, kind, f).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void gatheringTheChosenBucketGivesTheSameCutAsStreamingEveryLevelAndStreamsTwice() {
        SplittableRandom random = new SplittableRandom(5);
        for (int trial = 0; trial < 60; trial++) {
            double[] scores = new double[1 + random.nextInt(20_000)];
            for (int i = 0; i < scores.length; i++) {
                scores[i] = trial % 2 == 0 ? Math.exp(random.nextGaussian() * 5) : random.nextInt(50) * 0.125;
            }
            long zeros = random.nextInt(3);
            for (double f : new double[] {0.3, 0.8, 0.98, 0.9999}) {
                int[] passes = {0};
                EdgeScores counted = visitor -> {
                    passes[0]++;
                    for (double v : scores) {
                        visitor.score(v);
                    }
                };
                double gathered = EdgeThreshold.find(counted, zeros, f);
                assertThat(passes[0]).as("passes over the scores").isEqualTo(2);
                assertThat(gathered).as("trial %d fraction %s", trial, f)
                        .isEqualTo(EdgeThreshold.find(of(scores), zeros, f, 0));
            }
        }
    }

    @Test
    void allZeroOrNoScoresCutAtZeroAsTheReferenceDoes() {
        assertThat(EdgeThreshold.find(of(new double[] {0, 0}), 3, 0.5)).isZero();
        assertThat(EdgeThreshold.find(of(new double[0]), 0, 0.5)).isZero();
        assertThat(EdgeThreshold.find(of(new double[] {1, 4, 2, 3}), 0, 0.5)).isEqualTo(3);
        assertThat(EdgeThreshold.find(of(new double[] {1, 4, 2, 3}), 0, 0.4)).isEqualTo(4);
    }
}

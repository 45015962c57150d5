package org.circuittracer.transformer.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.Sampling;
import org.junit.jupiter.api.Test;

/** The sampler on hand-made logits: no engine needed. */
class SamplerTest {

    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    @Test
    void greedyTakesTheArgMaxAndTheLowestIdOnTies() {
        Sampler greedy = new Sampler(Sampling.greedy());
        assertThat(greedy.next(new float[] {0.5f, 2f, -1f, 2f})).isEqualTo(1);
        assertThat(greedy.next(new float[] {NEG_INF, -3f, NEG_INF})).isEqualTo(1);
        assertThat(greedy.next(new float[] {-0f, 0f})).isZero();
    }

    @Test
    void theRankingIsByLogitThenById() {
        assertThat(Sampler.ranking(new float[] {1f, 3f, NEG_INF, 3f, -2f, 0f, -0f}))
                .containsExactly(1, 3, 0, 5, 6, 4, 2);
    }

    @Test
    void frequenciesFollowTheTemperedSoftmax() {
        float[] logits = {1f, 0f, -1f, -1.5f};
        for (double temperature : new double[] {0.5, 1, 2}) {
            double[] expected = softmax(logits, temperature);
            double[] seen = frequencies(new Sampler(new Sampling(temperature, 0, 1, 9)), logits, 20_000);
            for (int i = 0; i < logits.length; i++) {
                assertThat(seen[i]).as("token %d at temperature %s", i, temperature)
                        .isCloseTo(expected[i], offset(0.015));
            }
        }
    }

    @Test
    void topKKeepsTheKMostLikelyAndRenormalises() {
        float[] logits = {0.2f, 0.1f, 0f, 0.15f};
        double[] seen = frequencies(new Sampler(new Sampling(1, 2, 1, 5)), logits, 200);
        assertThat(seen[0]).isPositive();
        assertThat(seen[3]).isPositive();
        assertThat(seen[1] + seen[2]).isZero();
        double p0 = 1 / (1 + Math.exp(0.15 - 0.2));
        assertThat(frequencies(new Sampler(new Sampling(1, 2, 1, 6)), logits, 20_000)[0]).isCloseTo(p0, offset(0.015));
    }

    @Test
    void topPKeepsTheShortestPrefixReachingP() {
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.2)};
        assertThat(support(new Sampling(1, 0, 0.5, 1), logits)).containsExactly(true, false, false);
        assertThat(support(new Sampling(1, 0, 0.6, 1), logits)).containsExactly(true, true, false);
        assertThat(support(new Sampling(1, 0, 0.79, 1), logits)).containsExactly(true, true, false);
        assertThat(support(new Sampling(1, 0, 0.81, 1), logits)).containsExactly(true, true, true);
        // top-k applies first: of the two kept (renormalised to 0.625, 0.375), 0.6 keeps one
        assertThat(support(new Sampling(1, 2, 0.6, 1), logits)).containsExactly(true, false, false);
        double[] seen = frequencies(new Sampler(new Sampling(1, 0, 0.6, 3)), logits, 20_000);
        assertThat(seen[0]).isCloseTo(0.625, offset(0.015));
    }

    @Test
    void infiniteLogitsAreBannedOrShareEverything() {
        assertThat(support(new Sampling(1, 0, 1, 2), new float[] {NEG_INF, 0f, NEG_INF, 5f}))
                .containsExactly(false, true, false, true);
        double[] seen = frequencies(new Sampler(new Sampling(1, 0, 1, 4)),
                new float[] {Float.POSITIVE_INFINITY, 100f, Float.POSITIVE_INFINITY}, 10_000);
        assertThat(seen[1]).isZero();
        assertThat(seen[0]).isCloseTo(0.5, offset(0.03));
    }

    @Test
    void theSameSeedGivesTheSameDraws() {
        float[] logits = {0.3f, 0.1f, 0.2f, 0f, -0.1f};
        Sampler a = new Sampler(new Sampling(1, 0, 0.95, 77));
        Sampler b = new Sampler(new Sampling(1, 0, 0.95, 77));
        Sampler c = new Sampler(new Sampling(1, 0, 0.95, 78));
        boolean differs = false;
        for (int i = 0; i < 100; i++) {
            int x = a.next(logits);
            assertThat(b.next(logits)).isEqualTo(x);
            differs |= c.next(logits) != x;
        }
        assertThat(differs).isTrue();
    }

    @Test
    void logitsNoTokenCanComeFromAreRejected() {
        Sampler sampler = new Sampler(new Sampling(1, 0, 1, 1));
        assertThatThrownBy(() -> sampler.next(new float[] {0f, Float.NaN}))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining("token 1 is NaN");
        assertThatThrownBy(() -> new Sampler(Sampling.greedy()).next(new float[] {NEG_INF, NEG_INF}))
                .isInstanceOf(CircuitTracerException.class).hasMessageContaining("−∞");
    }

    private static double[] frequencies(Sampler sampler, float[] logits, int draws) {
        double[] counts = new double[logits.length];
        for (int i = 0; i < draws; i++) {
            counts[sampler.next(logits)] += 1.0 / draws;
        }
        return counts;
    }

    private static boolean[] support(Sampling sampling, float[] logits) {
        double[] seen = frequencies(new Sampler(sampling), logits, 2_000);
        boolean[] support = new boolean[seen.length];
        for (int i = 0; i < seen.length; i++) {
            support[i] = seen[i] > 0;
        }
        return support;
    }

    private static double[] softmax(float[] logits, double temperature) {
        double[] p = new double[logits.length];
        double total = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = Math.exp(logits[i] / temperature);
            total += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= total;
        }
        return p;
    }
}

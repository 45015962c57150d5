package org.circuittracer.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.Test;

/**
 * The state kept while streaming is bounded by the options and the dictionary, not by the corpus: each feature keeps
 * at most {@code topExamples + bandSampleSize} windows and {@code quantileSampleSize} activations. Measured with the
 * collector's own accounting, which sums the lengths of every array it holds: once the busiest features' samples are
 * full, a corpus four times larger leaves it almost unchanged, and it never exceeds the bound computed here.
 */
class BoundedStateTest {

    @Test
    void retainedStateStopsGrowingWithTheCorpus() {
        DashboardOptions options = DashboardOptions.defaults().withTopExamples(5).withContext(6, 2)
                .withQuantileBands(2, 2).withQuantileSampleSize(100).withMaxSequenceLength(24);
        try (TransformerModel model = TinyFixtures.openModel("llama");
             SparseDictionary dictionary = TinyFixtures.openDictionary("llama-plt-relu")) {
            long[] retained = new long[3];
            int[] sizes = {40, 160, 640};
            for (int i = 0; i < sizes.length; i++) {
                CollectedDashboards d = FeatureDashboards.collect(model, dictionary, Corpus.ofTokens(DashboardFixtures
                        .randomSequences(11, sizes[i], 12, 24, model.config().vocabularySize(), true)), options,
                        DashboardListener.NONE);
                retained[i] = d.retainedBytes();
            }
            long features = 0;
            for (int l = 0; l < dictionary.layers(); l++) {
                features += dictionary.features(l);
            }
            long window = options.windowLength();
            long perFeature = 8 + 1024 + 24L * options.quantileSampleSize()
                    + (options.topExamples() + options.bandSampleSize()) * (8 + 56 + 32 + 8 * window)
                    + 16 + 32L * (options.outputTokens() + 4);
            long vocabulary = model.config().vocabularySize();
            long bound = features * perFeature + 16 + vocabulary * (8 + 40 + 2 * 64) + 16L * dictionary.layers();
            System.out.printf("[BoundedStateTest] retained %d / %d / %d bytes for %d / %d / %d sequences; bound %d%n",
                    retained[0], retained[1], retained[2], sizes[0], sizes[1], sizes[2], bound);
            assertThat(java.util.Arrays.stream(retained).max().orElseThrow()).isLessThanOrEqualTo(bound);
            assertThat(retained[2]).as("4x the corpus, saturated state").isLessThan(retained[1] * 11 / 10);
        }
    }
}

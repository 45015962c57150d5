package org.circuittracer.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.export.FeatureIds;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The streamed dashboards against a brute-force oracle: every activation of a small corpus computed densely
 * ({@code SparseDictionary.encode}), then top contexts, density, percentiles, histogram and band examples derived from
 * the full list by their definitions; output tokens against an explicit decoder · W_U product.
 */
class FeatureDashboardsOracleTest {

    record Entry(long sequence, int position, float value, long priority) {
    }

    static final DashboardOptions EXACT = DashboardOptions.defaults().withTopExamples(4).withContext(3, 2)
            .withMaxSequenceLength(12).withBatchSize(5).withQuantileBands(3, 2).withQuantileSampleSize(100_000)
            .withHistogramBins(7).withOutputTokens(5);

    /** Small enough that busy features exceed it: the sampled path. */
    static final DashboardOptions SAMPLED = EXACT.withQuantileSampleSize(100).withMaxSequenceLength(16);

    @ParameterizedTest
    @ValueSource(strings = {"llama-plt-relu", "llama-clt-relu"})
    void exactStatisticsEqualTheDenseOracle(String dictionaryName) {
        check(dictionaryName, EXACT, 60, 12);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-plt-relu", "llama-clt-relu"})
    void sampledStatisticsEqualTheOracleOnTheSameSample(String dictionaryName) {
        CollectedDashboards d = check(dictionaryName, SAMPLED, 150, 16);
        long busy = IntStream.range(0, d.features(1)).filter(f -> d.activations(1, f) > 100).count();
        assertThat(busy).as("features beyond the sample size").isPositive();
    }

    private static CollectedDashboards check(String dictionaryName, DashboardOptions options, int n, int maxLength) {
        try (TransformerModel model = TinyFixtures.openModel("llama");
             SparseDictionary dictionary = TinyFixtures.openDictionary(dictionaryName)) {
            List<TokenSequence> corpus = DashboardFixtures.randomSequences(7, n, 2, maxLength,
                    model.config().vocabularySize(), true);
            CollectedDashboards collected = FeatureDashboards.collect(model, dictionary, Corpus.ofTokens(corpus),
                    options, DashboardListener.NONE);
            float[][][][] dense = new float[corpus.size()][][][];
            long tokens = 0;
            for (int s = 0; s < corpus.size(); s++) {
                dense[s] = DashboardFixtures.denseActivations(model, dictionary, corpus.get(s));
                tokens += corpus.get(s).length() - 1;
            }
            assertThat(collected.tokens()).isEqualTo(tokens);
            assertThat(collected.sequences()).isEqualTo(corpus.size());
            int checked = 0;
            for (int l = 0; l < dictionary.layers(); l++) {
                for (int f = 0; f < dictionary.features(l); f++) {
                    Optional<FeatureDashboard> expected = oracle(model, corpus, dense, l, f, tokens, options,
                            collected);
                    assertThat(collected.dashboard(l, f)).as("layer %d feature %d", l, f).isEqualTo(expected);
                    checked += expected.isPresent() ? 1 : 0;
                }
                checkOutputTokens(model, dictionary, collected, l, options.outputTokens());
            }
            assertThat(checked).as("features that fired").isGreaterThan(dictionary.layers() * 10);

            CollectedDashboards rebatched = FeatureDashboards.collect(model, dictionary, Corpus.ofTokens(corpus),
                    options.withBatchSize(1), DashboardListener.NONE);
            for (int l = 0; l < dictionary.layers(); l++) {
                for (int f = 0; f < dictionary.features(l); f++) {
                    assertThat(rebatched.dashboard(l, f)).isEqualTo(collected.dashboard(l, f));
                }
            }
            return collected;
        }
    }

    private static Optional<FeatureDashboard> oracle(TransformerModel model, List<TokenSequence> corpus,
                                                     float[][][][] dense, int l, int f, long tokens,
                                                     DashboardOptions o, CollectedDashboards collected) {
        List<Entry> entries = new ArrayList<>();
        List<Entry> peaks = new ArrayList<>();
        for (int s = 0; s < corpus.size(); s++) {
            Entry peak = null;
            for (int p = 1; p < corpus.get(s).length(); p++) {
                float v = dense[s][l][p][f];
                if (v != 0f) {
                    Entry e = new Entry(s, p, v, Priorities.of(l, f, s, p));
                    entries.add(e);
                    if (peak == null || v > peak.value()) {
                        peak = e;
                    }
                }
            }
            if (peak != null) {
                peaks.add(peak);
            }
        }
        if (entries.isEmpty()) {
            return Optional.empty();
        }
        float min = (float) entries.stream().mapToDouble(Entry::value).min().orElseThrow();
        float max = (float) entries.stream().mapToDouble(Entry::value).max().orElseThrow();
        Comparator<Entry> byPriority = (a, b) -> Priorities.compare(a.priority(), a.sequence(), a.position(),
                b.priority(), b.sequence(), b.position());
        List<Entry> byPrio = entries.stream().sorted(byPriority).toList();
        List<Entry> sampleEntries = byPrio.subList(0, Math.min(byPrio.size(), o.quantileSampleSize()));
        float[] sample = new float[sampleEntries.size()];
        for (int i = 0; i < sample.length; i++) {
            sample[i] = sampleEntries.get(i).value();
        }
        java.util.Arrays.sort(sample);
        float[] quantiles = new float[100];
        for (int p = 1; p <= 100; p++) {
            quantiles[p - 1] = nearestRank(sample, p / 100.0);
        }
        quantiles[99] = max;
        float actMin = Math.min(0, min);
        float actMax = Math.max(0, max);
        long[] histogram = new long[o.histogramBins()];
        for (float v : sample) {
            int bin = (int) ((v - actMin) / (actMax - actMin) * o.histogramBins());
            histogram[Math.min(o.histogramBins() - 1, bin)]++;
        }
        if (entries.size() > sample.length) {
            for (int b = 0; b < histogram.length; b++) {
                histogram[b] = Math.round((double) histogram[b] * entries.size() / sample.length);
            }
        }
        Set<Long> shown = new HashSet<>();
        List<ExampleGroup> groups = new ArrayList<>();
        List<Entry> top = peaks.stream().sorted(Comparator.comparing(Entry::value).reversed()
                .thenComparing(Entry::sequence)).limit(o.topExamples()).toList();
        groups.add(new ExampleGroup("Top activations", examples(model, corpus, dense, l, f, top, o, shown)));
        List<Entry> bandSample = byPrio.subList(0, Math.min(byPrio.size(), o.bandSampleSize()));
        for (int b = o.quantileBands() - 1; b >= 0; b--) {
            double lo = b == 0 ? Double.NEGATIVE_INFINITY : nearestRank(sample, (double) b / o.quantileBands());
            double hi = b == o.quantileBands() - 1 ? Double.POSITIVE_INFINITY
                    : nearestRank(sample, (double) (b + 1) / o.quantileBands());
            List<Entry> members = bandSample.stream().filter(e -> e.value() > lo && e.value() <= hi)
                    .limit(o.examplesPerBand()).sorted(Comparator.comparing(Entry::value).reversed()
                            .thenComparing(Entry::sequence).thenComparing(Entry::position)).toList();
            if (!members.isEmpty()) {
                groups.add(new ExampleGroup(DashboardAssembly.bandName(b, o.quantileBands()),
                        examples(model, corpus, dense, l, f, members, o, shown)));
            }
        }
        FeatureDashboard streamed = collected.dashboard(l, f).orElseThrow();
        return Optional.of(new FeatureDashboard(collected.scan(), FeatureIds.pair(l, f), l, f, groups,
                streamed.topLogits(), streamed.bottomLogits(), actMin, actMax, quantiles, histogram,
                (double) entries.size() / tokens));
    }

    /** The value of rank ⌈q·n⌉ (1-based), computed exactly for the fractions used here. */
    private static float nearestRank(float[] sorted, double q) {
        long rank = (long) Math.ceil(q * sorted.length - 1e-9);
        return sorted[(int) Math.max(0, rank - 1)];
    }

    private static List<ActivationExample> examples(TransformerModel model, List<TokenSequence> corpus,
                                                    float[][][][] dense, int l, int f, List<Entry> entries,
                                                    DashboardOptions o, Set<Long> shown) {
        List<ActivationExample> out = new ArrayList<>();
        for (Entry e : entries) {
            TokenSequence seq = corpus.get((int) e.sequence());
            int start = Math.max(1, e.position() - o.contextBefore());
            int end = Math.min(seq.length(), e.position() + o.contextAfter() + 1);
            List<String> tokens = new ArrayList<>();
            float[] acts = new float[end - start];
            String decoded = "";
            for (int p = start; p < end; p++) {
                // each token is what it adds to the decoded window, so the tokens concatenate to the decoded text
                String next = model.tokenizer().decode(java.util.Arrays.copyOfRange(seq.ids(), start, p + 1), false);
                assertThat(next).startsWith(decoded);
                tokens.add(next.substring(decoded.length()));
                decoded = next;
                acts[p - start] = dense[(int) e.sequence()][l][p][f];
            }
            out.add(new ActivationExample(tokens, acts, e.position() - start, !shown.add(e.sequence())));
        }
        return out;
    }

    private static void checkOutputTokens(TransformerModel model, SparseDictionary dictionary,
                                          CollectedDashboards collected, int l, int k) {
        int vocabulary = model.config().vocabularySize();
        int features = dictionary.features(l);
        int[] all = IntStream.range(0, features).toArray();
        double[][] direction = new double[features][dictionary.width()];
        float[][] unembedding = new float[vocabulary][];
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int m : dictionary.outputLayers(l)) {
                float[] rows = dictionary.decoderRows(manager, l, all, m).toFloatArray();
                for (int f = 0; f < features; f++) {
                    for (int i = 0; i < dictionary.width(); i++) {
                        direction[f][i] += rows[f * dictionary.width() + i];
                    }
                }
            }
            float[] u = model.unembeddingVectors(manager, IntStream.range(0, vocabulary).toArray()).toFloatArray();
            for (int t = 0; t < vocabulary; t++) {
                unembedding[t] = java.util.Arrays.copyOfRange(u, t * dictionary.width(), (t + 1) * dictionary.width());
            }
        }
        for (int f = 0; f < features; f++) {
            Optional<OutputTokenRanking> ranking = collected.outputTokens(l, f);
            if (ranking.isEmpty()) {
                continue;
            }
            double[] scores = new double[vocabulary];
            for (int t = 0; t < vocabulary; t++) {
                for (int i = 0; i < dictionary.width(); i++) {
                    scores[t] += direction[f][i] * unembedding[t][i];
                }
            }
            Integer[] order = IntStream.range(0, vocabulary).boxed().toArray(Integer[]::new);
            java.util.Arrays.sort(order, Comparator.comparingDouble((Integer t) -> -scores[t]));
            checkRanking(ranking.get().topIds(), ranking.get().topScores(), scores, order, k, true);
            java.util.Arrays.sort(order, Comparator.comparingDouble((Integer t) -> scores[t]));
            checkRanking(ranking.get().bottomIds(), ranking.get().bottomScores(), scores, order, k, false);
            FeatureDashboard d = collected.dashboard(l, f).orElseThrow();
            assertThat(d.topLogits()).containsExactlyElementsOf(IntStream.of(ranking.get().topIds())
                    .mapToObj(model.tokenizer()::tokenText).toList());
            assertThat(d.bottomLogits()).hasSize(k);
        }
    }

    /** The k best by the oracle, up to float rounding at the boundary, in order, with matching scores. */
    private static void checkRanking(int[] ids, float[] scores, double[] oracle, Integer[] order, int k,
                                     boolean descending) {
        double tolerance = 1e-4;
        assertThat(ids).hasSize(k);
        double boundary = oracle[order[k - 1]];
        Set<Integer> chosen = new HashSet<>();
        for (int i = 0; i < k; i++) {
            chosen.add(ids[i]);
            assertThat((double) scores[i]).isCloseTo(oracle[ids[i]], org.assertj.core.data.Offset.offset(tolerance));
            if (i > 0) {
                assertThat(descending ? scores[i - 1] >= scores[i] : scores[i - 1] <= scores[i]).isTrue();
            }
            assertThat(descending ? oracle[ids[i]] >= boundary - tolerance : oracle[ids[i]] <= boundary + tolerance)
                    .isTrue();
        }
        for (int t = 0; t < oracle.length; t++) {
            if (!chosen.contains(t)) {
                assertThat(descending ? oracle[t] <= boundary + tolerance : oracle[t] >= boundary - tolerance)
                        .as("token %d left out", t).isTrue();
            }
        }
    }
}

package org.circuittracer.dashboards;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.dashboards.files.DashboardLayout;
import org.circuittracer.dashboards.files.DashboardWriter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A corpus cut into slices, each passed on its own ({@code collectPartial}), the partial states sent through their
 * bytes and merged in several orders, gives the very files one pass writes: byte for byte, for 1, 2, 3 and 5 slices,
 * packed and per-feature, on the sampled path (features fire more often than the sample holds) with bands, and with
 * documents split into several sequences (so slices start mid-way in the sequence numbering).
 */
class PartitionMergeTest {

    /** Small samples (busy features are sampled), bands, output tokens; documents longer than 12 tokens split. */
    static final DashboardOptions OPTIONS = DashboardOptions.defaults().withTopExamples(4).withContext(3, 2)
            .withMaxSequenceLength(12).withBatchSize(3).withQuantileBands(3, 2).withQuantileSampleSize(100)
            .withHistogramBins(7).withOutputTokens(5);

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"llama-plt-relu", "llama-clt-relu"})
    void slicesMergedInAnyOrderWriteTheFilesOfOnePass(String dictionaryName) throws IOException {
        try (TransformerModel model = TinyFixtures.openModel("llama");
             SparseDictionary dictionary = TinyFixtures.openDictionary(dictionaryName)) {
            ReplacementModel replacement = ReplacementModel.of(model, dictionary);
            List<CorpusDocument> documents = corpus(model.config().vocabularySize());
            CollectedDashboards whole = FeatureDashboards.collect(replacement, Corpus.of(documents), OPTIONS,
                    DashboardListener.NONE);
            assertThat(whole.sequences()).as("some documents are split").isGreaterThan(documents.size());
            long busy = java.util.stream.IntStream.range(0, whole.features(1))
                    .filter(f -> whole.activations(1, f) > OPTIONS.quantileSampleSize()).count();
            assertThat(busy).as("features beyond the sample size").isPositive();
            Map<DashboardLayout, Map<String, byte[]>> expected = new TreeMap<>();
            for (DashboardLayout layout : DashboardLayout.values()) {
                expected.put(layout, written(whole, layout, "whole-" + layout.id()));
            }

            for (int parts : new int[] {1, 2, 3, 5}) {
                List<PartialDashboards> partials = slices(replacement, documents, parts);
                byte[] canonical = null;
                for (List<PartialDashboards> order : orders(partials)) {
                    PartialDashboards merged = PartialDashboards.mergeAll(order);
                    if (canonical == null) {
                        canonical = merged.toBytes();
                    }
                    assertThat(merged.toBytes()).as("%d parts: the merged state's bytes", parts).isEqualTo(canonical);
                    CollectedDashboards finished = FeatureDashboards.finish(replacement, merged,
                            DashboardListener.NONE);
                    for (DashboardLayout layout : DashboardLayout.values()) {
                        Map<String, byte[]> files = written(finished, layout, parts + "-" + layout.id() + "-"
                                + System.nanoTime());
                        assertThat(files.keySet()).isEqualTo(expected.get(layout).keySet());
                        files.forEach((name, bytes) -> assertThat(bytes).as("%d parts, %s", parts, name)
                                .isEqualTo(expected.get(layout).get(name)));
                    }
                }
                PartialDashboards tree = treeMerge(partials);
                assertThat(tree.toBytes()).as("%d parts merged as a tree", parts).isEqualTo(canonical);
            }
        }
    }

    @Test
    void mergeKeepsTheEmptyStateAsIdentityAndRefusesMismatchedParts() {
        try (TransformerModel model = TinyFixtures.openModel("llama");
             SparseDictionary dictionary = TinyFixtures.openDictionary("llama-plt-relu")) {
            ReplacementModel replacement = ReplacementModel.of(model, dictionary);
            List<CorpusDocument> documents = corpus(model.config().vocabularySize()).subList(0, 6);
            PartialDashboards part = FeatureDashboards.collectPartial(replacement, Corpus.of(documents),
                    CorpusSlice.START, OPTIONS, DashboardListener.NONE);
            PartialDashboards empty = PartialDashboards.empty(OPTIONS, part.featuresPerLayer());
            assertThat(empty.merge(part).toBytes()).isEqualTo(part.toBytes());
            assertThat(part.merge(empty.merge(empty)).toBytes()).isEqualTo(part.toBytes());
            assertThat(part.merge(PartialDashboards.empty(OPTIONS.withBatchSize(1), part.featuresPerLayer()))
                    .toBytes()).as("the batch size changes nothing").isEqualTo(part.toBytes());

            assertThatThrownBy(() -> part.merge(PartialDashboards.empty(OPTIONS.withTopExamples(5),
                    part.featuresPerLayer()))).isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INCOMPATIBLE_INPUTS));
            assertThatThrownBy(() -> part.merge(PartialDashboards.empty(OPTIONS, new int[] {1, 2})))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INCOMPATIBLE_INPUTS));
            byte[] bytes = part.toBytes();
            assertThatThrownBy(() -> PartialDashboards.fromBytes(java.util.Arrays.copyOf(bytes, bytes.length - 3)))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE));
            assertThatThrownBy(() -> PartialDashboards.fromBytes(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.getMessage()).contains("not partial feature dashboards"));
            assertThatThrownBy(() -> FeatureDashboards.finish(replacement, empty, DashboardListener.NONE))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.getMessage()).contains("no tokens"));
        }
    }

    /** Token-id documents of 2 to 30 tokens (many split at 12) and a few texts, one of which tokenises to nothing. */
    static List<CorpusDocument> corpus(int vocabulary) {
        List<CorpusDocument> out = new ArrayList<>();
        for (TokenSequence s : DashboardFixtures.randomSequences(11, 40, 2, 30, vocabulary, true)) {
            out.add(new CorpusDocument.Tokens(s.ids()));
        }
        out.add(5, new CorpusDocument.Text("the man was on the water and she said that it was a good day"));
        out.add(17, new CorpusDocument.Text(""));
        out.add(30, new CorpusDocument.Text("they went back"));
        return out;
    }

    /** {@code parts} contiguous slices of uneven sizes, each passed on its own and sent through its bytes. */
    private static List<PartialDashboards> slices(ReplacementModel model, List<CorpusDocument> documents, int parts) {
        List<PartialDashboards> out = new ArrayList<>();
        CorpusSlice start = CorpusSlice.START;
        int from = 0;
        for (int p = 0; p < parts; p++) {
            // slice p gets a share proportional to p + 1: uneven, and the last takes the rest
            int to = p == parts - 1 ? documents.size()
                    : from + (int) ((long) documents.size() * 2 * (p + 1) / ((long) parts * (parts + 1)));
            Corpus slice = Corpus.of(documents.subList(from, to));
            PartialDashboards partial = FeatureDashboards.collectPartial(model, slice, start, OPTIONS,
                    DashboardListener.NONE);
            long sequences = FeatureDashboards.sequences(model, slice, start, OPTIONS);
            assertThat(partial.sequences()).isEqualTo(sequences);
            out.add(PartialDashboards.fromBytes(partial.toBytes()));
            start = start.after(to - from, sequences);
            from = to;
        }
        return out;
    }

    private static List<List<PartialDashboards>> orders(List<PartialDashboards> partials) {
        List<PartialDashboards> reversed = new ArrayList<>(partials);
        Collections.reverse(reversed);
        List<PartialDashboards> shuffled = new ArrayList<>(partials);
        Collections.shuffle(shuffled, new Random(partials.size()));
        return List.of(partials, reversed, shuffled);
    }

    /** Pairs merged level by level, as a tree reduction does. */
    private static PartialDashboards treeMerge(List<PartialDashboards> partials) {
        List<PartialDashboards> level = new ArrayList<>(partials);
        while (level.size() > 1) {
            List<PartialDashboards> next = new ArrayList<>();
            for (int i = 0; i < level.size(); i += 2) {
                next.add(i + 1 < level.size() ? level.get(i + 1).merge(level.get(i)) : level.get(i));
            }
            level = next;
        }
        return level.get(0);
    }

    /** Every file {@link DashboardWriter} writes for {@code dashboards}, by relative name. */
    private Map<String, byte[]> written(CollectedDashboards dashboards, DashboardLayout layout, String name)
            throws IOException {
        Path out = dir.resolve(name);
        DashboardWriter.write(dashboards, out, layout, DashboardListener.NONE);
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(out)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                files.put(out.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        assertThat(files).containsKey("dashboards.json").hasSizeGreaterThan(2);
        return files;
    }
}

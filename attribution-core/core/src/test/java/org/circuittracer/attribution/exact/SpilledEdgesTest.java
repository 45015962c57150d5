package org.circuittracer.attribution.exact;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.export.ExportOptions;
import org.circuittracer.attribution.export.GraphJsonExporter;
import org.circuittracer.attribution.graphfile.GraphFile;
import org.circuittracer.attribution.io.EdgeMemory;
import org.circuittracer.attribution.prune.GraphPruning;
import org.circuittracer.attribution.prune.GraphScores;
import org.circuittracer.attribution.prune.PruneResult;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Graphs whose edges outgrow the {@link EdgeMemory} budget: computed rows spill to disk, the matrix is assembled into
 * a file, and pruning, scores, export and the graph file read it in blocks. Everything must equal the in-memory run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SpilledEdgesTest {

    private TransformerModel model;
    private SparseDictionary dictionary;

    @TempDir
    Path dir;

    @BeforeAll
    void open() {
        model = TinyFixtures.openModel("llama");
        dictionary = TinyFixtures.openDictionary("llama-plt-relu");
    }

    @AfterAll
    void close() {
        dictionary.close();
        model.close();
    }

    private AttributionGraph attribute(int maxFeatures, String budget) {
        TokenSequence tokens = TinyFixtures.prompt("llama", 2);
        String previousBudget = System.getProperty(EdgeMemory.BUDGET_PROPERTY);
        String previousDir = System.getProperty(EdgeMemory.DIRECTORY_PROPERTY);
        try {
            if (budget != null) {
                System.setProperty(EdgeMemory.BUDGET_PROPERTY, budget);
                System.setProperty(EdgeMemory.DIRECTORY_PROPERTY, dir.toString());
            }
            return new ExactAttributor().attribute(new AttributionRequest(model, dictionary, tokens,
                    AttributionTargets.Salient.defaults(), maxFeatures, 16, 2), AttributionListener.NONE);
        } finally {
            restore(EdgeMemory.BUDGET_PROPERTY, previousBudget);
            restore(EdgeMemory.DIRECTORY_PROPERTY, previousDir);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    @Test
    void everyFeatureWithATinyBudgetGivesTheSameGraphPrunedScoredAndExported() throws IOException {
        AttributionGraph held = attribute(0, null);
        AttributionGraph spilled = attribute(0, "4k");
        assertThat(held.adjacency().inMemory()).isTrue();
        assertThat(spilled.adjacency().inMemory()).as("assembled into a file").isFalse();
        assertThat(spilled.adjacency().nonZeros()).isGreaterThan(1000);
        assertThat(spilled.adjacency()).isEqualTo(held.adjacency());
        assertThat(spilled.selected()).isEqualTo(held.selected());
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.filter(p -> p.getFileName().toString().startsWith("circuit-tracer-rows-")))
                    .as("the spilled rows are deleted when the graph is assembled").isEmpty();
        }

        for (double[] t : new double[][] {{0.8, 0.98}, {0.5, 0.9}, {0.0, 0.5}}) {
            PruneResult a = GraphPruning.prune(held, t[0], t[1]);
            PruneResult b = GraphPruning.prune(spilled, t[0], t[1]);
            assertThat(b.nodeMask()).isEqualTo(a.nodeMask());
            assertThat(b.edgeBits()).isEqualTo(a.edgeBits());
            assertThat(b.cumulativeScores()).isEqualTo(a.cumulativeScores());
        }
        assertThat(GraphScores.replacementScore(spilled)).isEqualTo(GraphScores.replacementScore(held));
        assertThat(GraphScores.completenessScore(spilled)).isEqualTo(GraphScores.completenessScore(held));

        List<String> promptTokens = new ArrayList<>();
        for (int id : held.tokens().ids()) {
            promptTokens.add("t" + id);
        }
        ExportOptions options = ExportOptions.of("spilled", promptTokens);
        assertThat(GraphJsonExporter.build(spilled, options).json())
                .isEqualTo(GraphJsonExporter.build(held, options).json());

        // the graph file: written from the file-backed matrix, read back in memory and (tiny budget) from the file
        Path file = dir.resolve("spilled.graph.safetensors");
        GraphFile.save(spilled, file);
        assertThat(GraphFile.load(file).adjacency()).isEqualTo(held.adjacency());
        System.setProperty(EdgeMemory.BUDGET_PROPERTY, "1k");
        try {
            AttributionGraph loaded = GraphFile.load(file);
            assertThat(loaded.adjacency().inMemory()).isFalse();
            assertThat(loaded.adjacency()).isEqualTo(held.adjacency());
        } finally {
            System.clearProperty(EdgeMemory.BUDGET_PROPERTY);
        }
    }

    @Test
    void influenceOrderedSelectionRanksSpilledRowsLikeHeldOnes() {
        AttributionGraph held = attribute(40, null);
        AttributionGraph spilled = attribute(40, "2k");
        assertThat(spilled.selected()).isEqualTo(held.selected());
        assertThat(spilled.adjacency()).isEqualTo(held.adjacency());
    }

    @Test
    void spilledRowsReadBackExactlyInAnyOrder() {
        SplittableRandom random = new SplittableRandom(5);
        List<int[]> columns = new ArrayList<>();
        List<float[]> weights = new ArrayList<>();
        try (EdgeRows rows = new EdgeRows(new EdgeMemory(3_000, dir))) {
            for (int r = 0; r < 200; r++) {
                int n = random.nextInt(120);
                int[] c = new int[n];
                float[] w = new float[n];
                for (int i = 0; i < n; i++) {
                    c[i] = i == 0 ? random.nextInt(5) : c[i - 1] + 1 + random.nextInt(5);
                    w[i] = (float) random.nextGaussian();
                }
                columns.add(c);
                weights.add(w);
                rows.add(1000 + r, c, w);
            }
            assertThat(rows.spilled()).isTrue();
            EdgeRows.Reader reader = rows.reader();
            for (int r = 199; r >= 0; r -= 3) {
                int row = r;
                reader.read(r, (rr, c, w, length) -> {
                    assertThat(rr).isEqualTo(row);
                    assertThat(java.util.Arrays.copyOf(c, length)).isEqualTo(columns.get(row));
                    assertThat(java.util.Arrays.copyOf(w, length)).isEqualTo(weights.get(row));
                });
                assertThat(rows.node(r)).isEqualTo(1000 + r);
                double sum = 0;
                for (float w : weights.get(r)) {
                    sum += Math.abs(w);
                }
                assertThat(rows.absoluteSum(r)).isEqualTo(sum);
            }
        }
    }
}

package org.circuittracer.attribution.graphfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.exact.ExactAttributor;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.EdgeMatrix;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Lossless save/load of attribution graphs, and the errors for files that are not (readable) graph files. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GraphFileTest {

    private AttributionGraph computed;

    @BeforeAll
    void computeGraph() {
        try (TransformerModel model = TinyFixtures.openModel("llama");
             SparseDictionary dictionary = TinyFixtures.openDictionary("llama-clt-relu")) {
            computed = new ExactAttributor().attribute(AttributionRequest.withDefaults(model, dictionary,
                    TinyFixtures.prompt("llama", 0)), AttributionListener.NONE);
        }
    }

    /** A hand-made graph with a custom target (virtual index, odd label), a zero-activation and NaN-free values. */
    static AttributionGraph handMade() {
        ModelConfig config = new ModelConfig("toy \"model\"", "LlamaForCausalLM", 2, 4, 2, 1, 2, 8, 10, 16);
        List<Node.FeatureNode> active = List.of(new Node.FeatureNode(0, 0, 3, 0.5f, 0),
                new Node.FeatureNode(0, 1, 1, 2.5f, 1), new Node.FeatureNode(1, 1, 7, -0f, 2));
        List<Node.FeatureNode> selected = List.of(active.get(1), active.get(2));
        int n = 2 + 2 * 2 + 2 + 2;
        float[] dense = new float[n * n];
        dense[8 * n] = 1e-30f;
        dense[9 * n + 1] = -3.25f;
        dense[n + 6] = Float.MIN_VALUE;
        return new AttributionGraph(config, TokenSequence.of(1, 3), "ab ✓", active, selected,
                List.of(new Node.LogitNode(1, 7, "\"q\" ü", 0.75f), new Node.LogitNode(1, 10, "custom: x − y", 1f)),
                EdgeMatrix.fromDense(n, dense), 10, "owner/repo//sub@rev");
    }

    @Test
    void aComputedGraphRoundTripsExactly(@TempDir Path dir) {
        Path file = dir.resolve("graph.safetensors");
        GraphFile.save(computed, file);
        AttributionGraph loaded = GraphFile.load(file);
        assertThat(loaded).isEqualTo(computed);
        assertThat(loaded.nodes()).isEqualTo(computed.nodes());
    }

    @Test
    void aHandMadeGraphRoundTripsExactly(@TempDir Path dir) {
        AttributionGraph graph = handMade();
        Path file = dir.resolve("g.safetensors");
        GraphFile.save(graph, file);
        GraphFile.save(graph, file); // replaces
        assertThat(GraphFile.load(file)).isEqualTo(graph);
    }

    @Test
    void versionsOutsideTheSupportedRangeAreUnsupportedNotMalformed(@TempDir Path dir) {
        for (String version : List.of("0", "2", "999")) {
            Path file = dir.resolve("v" + version + ".safetensors");
            GraphFile.writer(handMade()).metadata("format_version", version).write(file);
            assertThatThrownBy(() -> GraphFile.load(file)).isInstanceOfSatisfying(CircuitTracerException.class,
                    e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.UNSUPPORTED_FORMAT_VERSION))
                    .hasMessageContaining("version " + version)
                    .hasMessageContaining(version.equals("0") ? "older" : "newer");
        }
    }

    @Test
    void corruptOrForeignFilesAreMalformed(@TempDir Path dir) throws IOException {
        Path good = dir.resolve("good.safetensors");
        GraphFile.save(handMade(), good);
        byte[] bytes = Files.readAllBytes(good);

        Path truncated = dir.resolve("truncated.safetensors");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 5));
        assertMalformed(truncated, "truncated.safetensors");

        Path shortFile = dir.resolve("short.safetensors");
        Files.write(shortFile, Arrays.copyOf(bytes, 5));
        assertMalformed(shortFile, "short.safetensors");

        Path garbage = dir.resolve("garbage.safetensors");
        byte[] flipped = bytes.clone();
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        flipped[8] = '[';
        Files.write(garbage, flipped);
        assertThat(headerLength).isPositive();
        assertMalformed(garbage, "garbage.safetensors");

        Path foreign = dir.resolve("weights.safetensors");
        new SafetensorsWriter().addFloats("w", new long[] {2}, new float[] {1, 2}).write(foreign);
        assertMalformed(foreign, "not a circuit-tracer graph file");

        Path badJson = dir.resolve("badjson.safetensors");
        GraphFile.writer(handMade()).metadata("graph", "{\"model\": ").write(badJson);
        assertMalformed(badJson, "not valid JSON");

        Path badVersion = dir.resolve("badversion.safetensors");
        GraphFile.writer(handMade()).metadata("format_version", "one").write(badVersion);
        assertMalformed(badVersion, "not an integer");

        Path missingField = dir.resolve("missing.safetensors");
        GraphFile.writer(handMade()).metadata("graph", "{\"input_string\": \"x\"}").write(missingField);
        assertMalformed(missingField, "lacks 'model'");

        Path missingTensor = dir.resolve("missing-tensor.safetensors");
        new SafetensorsWriter().metadata("format", GraphFile.FORMAT).metadata("format_version", "1")
                .metadata("graph", GraphFile.writerMetadata(handMade()))
                .addInts("tokens", DType.I32, new long[] {2}, new int[] {1, 3}).write(missingTensor);
        assertMalformed(missingTensor, "missing-tensor.safetensors");

        // arrays that disagree with each other: one logit fewer in the arrays than in the labels
        AttributionGraph g = handMade();
        Path inconsistent = dir.resolve("inconsistent.safetensors");
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", GraphFile.FORMAT)
                .metadata("format_version", "1").metadata("graph", GraphFile.writerMetadata(g));
        try (SafetensorsFile src = SafetensorsFile.open(good)) {
            for (String name : src.names()) {
                if (name.startsWith("logit_")) {
                    w.addInts(name.equals("logit_weights") ? name + "_" : name, DType.I32, new long[] {1},
                            new int[] {1});
                } else {
                    w.copy(src, name);
                }
            }
            w.addFloats("logit_weights", new long[] {1}, new float[] {1f});
            w.write(inconsistent);
        }
        assertMalformed(inconsistent, "differ in length");

        // a CSR matrix of the wrong size for the node count
        Path wrongSize = dir.resolve("wrong-size.safetensors");
        SafetensorsWriter v = new SafetensorsWriter().metadata("format", GraphFile.FORMAT)
                .metadata("format_version", "1").metadata("graph", GraphFile.writerMetadata(g));
        try (SafetensorsFile src = SafetensorsFile.open(good)) {
            for (String name : src.names()) {
                if (!name.startsWith("adjacency.")) {
                    v.copy(src, name);
                }
            }
        }
        v.addInts("adjacency.row_start", DType.I32, new long[] {3}, new int[] {0, 0, 0});
        v.addInts("adjacency.columns", DType.I32, new long[] {0}, new int[0]);
        v.addFloats("adjacency.weights", new long[] {0}, new float[0]);
        v.write(wrongSize);
        assertMalformed(wrongSize, "inconsistent");
    }

    @Test
    void aGraphWhoseFeatureNodesAreNotItsActiveFeaturesCannotBeSaved(@TempDir Path dir) {
        AttributionGraph g = handMade();
        AttributionGraph odd = new AttributionGraph(g.model(), g.tokens(), g.inputString(), g.activeFeatures(),
                List.of(new Node.FeatureNode(0, 1, 1, 9f, 1), g.selected().get(1)), g.logits(), g.adjacency(),
                g.vocabularySize(), g.scan());
        assertThatThrownBy(() -> GraphFile.save(odd, dir.resolve("odd.safetensors")))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining("selected feature 0");
        assertThat(dir.resolve("odd.safetensors")).doesNotExist();
    }

    @Test
    void aMissingFileIsFileNotFound(@TempDir Path dir) {
        assertThatThrownBy(() -> GraphFile.load(dir.resolve("nope.safetensors")))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.FILE_NOT_FOUND));
    }

    private static void assertMalformed(Path file, String messagePart) {
        assertThatThrownBy(() -> GraphFile.load(file)).isInstanceOfSatisfying(CircuitTracerException.class,
                e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE))
                .hasMessageContaining(messagePart);
    }
}

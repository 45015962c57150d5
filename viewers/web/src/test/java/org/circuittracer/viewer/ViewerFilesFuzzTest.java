package org.circuittracer.viewer;


import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.circuittracer.viewer.annotations.AnnotationStore;
import org.circuittracer.viewer.files.ServedDirectory;
import org.circuittracer.viewer.graph.GraphStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The viewer's graph loading ({@link GraphStore#load}) and annotation files and bodies ({@link AnnotationStore}),
 * fuzzed from the test side with the testkit's harness (docs/develop/fuzzing.md). Files outside the served
 * directory are watched: saving annotations writes into it (which is slower: 40% of {@code -Dfuzz.cases}, 2,000
 * cases each by default, for the annotation tests).
 */
class ViewerFilesFuzzTest {

    private static final String SLUG = "fuzz-graph";

    private static byte[] graphSeed(@TempDir Path tmp) throws Exception {
        return Files.readAllBytes(TestGraphs.write(tmp, TestGraphs.smallGraph(SLUG)));
    }

    @Test
    void mutatedGraphJsonLoadsOrFailsWithCircuitTracerException(@TempDir Path tmp) throws Exception {
        Fuzzer.Result r = Fuzzer.named("viewer graph JSON").text().seeds(List.of(graphSeed(tmp))).watchFiles()
                .strings(List.of("nodes", "links", "metadata", "node_id", "feature_type", "cantor",
                        "embedding", "logit", "mlp reconstruction error", "source", "target", "weight"))
                .run((input, dir) -> {
                    Files.write(dir.resolve(SLUG + ".json"), input);
                    GraphStore graphs = new GraphStore(new ServedDirectory(dir, "graphs"));
                    graphs.load(SLUG);
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }

    /** Found by the fuzzer: a graph file that is not UTF-8 was reported as missing. */
    @Test
    void aGraphFileThatIsNotUtf8IsMalformedNotMissing(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("bad"));
        // three zero bytes make the JSON parser read UTF-32, where 0x7FFFFFFF is no character
        byte[] broken = {0, 0, 0, '{', 0x7F, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF};
        Files.write(dir.resolve(SLUG + ".json"), broken);
        GraphStore graphs = new GraphStore(new ServedDirectory(dir, "graphs"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> graphs.load(SLUG))
                .isInstanceOfSatisfying(org.circuittracer.spi.CircuitTracerException.class, e ->
                        org.assertj.core.api.Assertions.assertThat(e.errorCode())
                                .isEqualTo(org.circuittracer.spi.StandardErrorCode.MALFORMED_FILE));
    }

    private static final String BODY = "{\"baseVersion\": 0, \"labels\": {\"1_40_3\": \"says cat\"}, "
            + "\"pinnedIds\": [\"1_40_3\", \"0_12_2\"], \"supernodes\": [[\"cat group\", \"1_40_3\", \"0_12_2\"]]}";

    @Test
    void mutatedAnnotationFilesAndBodiesLoadOrFailWithCircuitTracerException(@TempDir Path tmp) throws Exception {
        byte[] graph = graphSeed(tmp);
        Path seedDir = Files.createDirectory(tmp.resolve("seed"));
        Files.write(seedDir.resolve(SLUG + ".json"), graph);
        AnnotationStore seedStore = new AnnotationStore(new GraphStore(new ServedDirectory(seedDir, "graphs")));
        seedStore.save(SLUG, TestGraphs.JSON.readTree(BODY));
        byte[] annotations = Files.readAllBytes(seedDir.resolve(SLUG + AnnotationStore.SUFFIX));
        Fuzzer.Result files = Fuzzer.named("viewer annotations file").text().seeds(List.of(annotations))
                .share(0.4).watchFiles().run((input, dir) -> {
                    Files.write(dir.resolve(SLUG + ".json"), graph);
                    Files.write(dir.resolve(SLUG + AnnotationStore.SUFFIX), input);
                    AnnotationStore store = new AnnotationStore(new GraphStore(new ServedDirectory(dir, "graphs")));
                    ObjectNode loaded = store.load(SLUG);
                    ObjectNode body = TestGraphs.JSON.readTree(BODY).deepCopy();
                    body.put("baseVersion", loaded.path("version").asLong());
                    store.save(SLUG, body);
                });
        files.assertSomeLoaded();
        files.assertSomeRejected();
        Fuzzer.Result bodies = Fuzzer.named("viewer annotations body").text().seedTexts(List.of(BODY)).share(0.4).watchFiles()
                .strings(List.of("labels", "pinnedIds", "supernodes", "state", "subgraphs", "baseVersion", "E_1_2"))
                .run((input, dir) -> {
                    JsonNode body;
                    try {
                        body = TestGraphs.JSON.readTree(input);
                    } catch (java.io.IOException e) {
                        return; // the server's JSON parsing answers these, before the store sees them
                    }
                    Files.write(dir.resolve(SLUG + ".json"), graph);
                    AnnotationStore store = new AnnotationStore(new GraphStore(new ServedDirectory(dir, "graphs")));
                    store.save(SLUG, body);
                    store.addSubgraph(SLUG, body);
                });
        bodies.assertSomeRejected();
    }
}

package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.circuittracer.attribution.graphfile.GraphFile;
import org.circuittracer.runtime.ProviderInfo;
import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.runtime.ProviderRegistry;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Provider;
import org.circuittracer.spi.Recognition;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.testkit.SharedFixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code export-onnx} on the tiny llama fixture, the exported directory used by {@code attribute} through the onnx
 * backend (the same graph as the djl backend's), the choice of backend without {@code --backend}, and bad arguments.
 */
class ExportOnnxCommandTest {

    /** Edge weights: |onnx − djl| ≤ 1e-4 · max(1, max |djl weight|) over the graph. */
    private static final double TOLERANCE = 1e-4;
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Pattern DIFFERENCE = Pattern.compile("max relative logit difference ([0-9.eE+-]+)");

    private static Path model;
    private static Path transcoders;
    private static String goldenIds;

    @BeforeAll
    static void fixtures() {
        model = SharedFixtures.resolve("tiny-models/llama");
        transcoders = SharedFixtures.resolve("tiny-transcoders/llama-plt-relu");
        try (SafetensorsFile golden = SafetensorsFile.open(model.resolve("golden.safetensors"))) {
            goldenIds = Arrays.stream(golden.readInts("p0.input_ids")).mapToObj(Integer::toString)
                    .collect(Collectors.joining(","));
        }
    }

    private static CircuitTracerCommandTest.Run run(String... args) {
        return CircuitTracerCommandTest.run(args);
    }

    private static CircuitTracerCommandTest.Run attribute(Path modelDir, Path graphs, String slug, String... more) {
        List<String> args = new ArrayList<>(List.of("attribute", "--model", modelDir.toString(), "--transcoders",
                transcoders.toString(), "--prompt-ids", goldenIds, "--slug", slug, "--graph-file-dir",
                graphs.toString(), "--graph-output-path", graphs.resolve(slug + ".ctgraph").toString()));
        args.addAll(List.of(more));
        return run(args.toArray(String[]::new));
    }

    @Test
    void exportedModelGivesTheDjlGraphThroughTheOnnxBackend(@TempDir Path dir) throws IOException {
        Path exported = dir.resolve("llama-onnx");
        CircuitTracerCommandTest.Run export = run("export-onnx", "--model", model.toString(), "--output",
                exported.toString());
        assertThat(export.exit()).as(export.err()).isZero();
        assertThat(export.out()).contains("Exported").contains("model.onnx").contains("config.json")
                .contains("tokenizer.json").doesNotContain("model.onnx_data");
        assertThat(exported.resolve("model.onnx")).isRegularFile();
        assertThat(exported.resolve("tokenizer.json")).isRegularFile();
        Matcher difference = DIFFERENCE.matcher(export.out());
        assertThat(difference.find()).as(export.out()).isTrue();
        assertThat(Double.parseDouble(difference.group(1))).isLessThan(1e-4);

        Path graphs = dir.resolve("graphs");
        CircuitTracerCommandTest.Run onnx = attribute(exported, graphs, "onnx", "--backend", "onnx");
        assertThat(onnx.exit()).as(onnx.err()).isZero();
        assertThat(onnx.err()).contains("(onnx, float32)");
        assertThat(onnx.out()).contains("--backend onnx"); // the serve command it prints keeps the backend
        CircuitTracerCommandTest.Run djl = attribute(model, graphs, "djl");
        assertThat(djl.exit()).as(djl.err()).isZero();
        assertThat(djl.err()).contains("(djl, float32)").doesNotContain("chose backend");

        assertSameGraph(GraphFile.load(graphs.resolve("onnx.ctgraph")), GraphFile.load(graphs.resolve("djl.ctgraph")));
        assertSameViewerGraph(MAPPER.readTree(graphs.resolve("onnx.json").toFile()),
                MAPPER.readTree(graphs.resolve("djl.json").toFile()));

        // Without --backend the directory with model.onnx opens with onnx, and the command says why.
        CircuitTracerCommandTest.Run auto = attribute(exported, graphs, "auto", "--max-feature-nodes", "10");
        assertThat(auto.exit()).as(auto.err()).isZero();
        assertThat(auto.err()).contains("chose backend 'onnx'").contains("model.onnx").contains("(onnx, float32)");
    }

    @Test
    void forceRewritesAnExportAndExternalDataGoesBesideTheGraph(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("out");
        CircuitTracerCommandTest.Run first = run("export-onnx", "--model", model.toString(), "--output",
                out.toString(), "--external-data", "--no-verify", "--quiet");
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.err()).isEmpty();
        assertThat(first.out()).contains("model.onnx_data").doesNotContain("Checked");
        assertThat(out.resolve("model.onnx_data")).isRegularFile();

        CircuitTracerCommandTest.Run again = run("export-onnx", "--model", model.toString(), "--output",
                out.toString());
        assertThat(again.exit()).isEqualTo(CircuitTracerCommand.EXIT_USER);
        assertThat(again.err()).contains("not empty").contains("--force");

        CircuitTracerCommandTest.Run forced = run("export-onnx", "--model", model.toString(), "--output",
                out.toString(), "--force");
        assertThat(forced.exit()).as(forced.err()).isZero();
        assertThat(forced.out()).contains("Checked");
        assertThat(out.resolve("model.onnx_data")).doesNotExist(); // weights inline now: the stale file is gone
        try (TransformerModel m = new org.circuittracer.backend.onnx.OnnxBackendProvider()
                .create(ModelSource.of(out))) {
            assertThat(m.config().layers()).isPositive();
        }
    }

    @Test
    void badArgumentsExitWithTwo(@TempDir Path dir) throws IOException {
        Path unsupported = Files.createDirectories(dir.resolve("mamba"));
        Files.writeString(unsupported.resolve("config.json"), "{\"architectures\": [\"MambaForCausalLM\"]}");
        Path file = Files.writeString(dir.resolve("file.txt"), "x");
        Path full = Files.createDirectories(dir.resolve("full"));
        Files.writeString(full.resolve("keep.txt"), "x");
        String out = dir.resolve("out").toString();
        Map<List<String>, String> cases = new HashMap<>();
        cases.put(List.of("export-onnx", "--output", out), "--model");
        cases.put(List.of("export-onnx", "--model", model.toString()), "--output");
        cases.put(List.of("export-onnx", "--model", dir.resolve("missing").toString(), "--output", out), "missing");
        cases.put(List.of("export-onnx", "--model", model.toString(), "--output", model.toString()),
                "model directory");
        cases.put(List.of("export-onnx", "--model", model.toString(), "--output", file.toString()), "is a file");
        cases.put(List.of("export-onnx", "--model", model.toString(), "--output", full.toString()), "--force");
        cases.put(List.of("export-onnx", "--model", unsupported.toString(), "--output", out),
                "MambaForCausalLM");
        cases.put(List.of("export-onnx", "--model", model.toString(), "--output", out, "--frobnicate"),
                "--frobnicate");
        cases.put(List.of("attribute", "--backend", "nosuch", "--model", model.toString(), "--transcoders",
                transcoders.toString(), "--prompt-ids", goldenIds, "--graph-file-dir",
                dir.resolve("graphs").toString()), "nosuch");
        cases.forEach((args, expected) -> {
            CircuitTracerCommandTest.Run r = run(args.toArray(String[]::new));
            assertThat(r.exit()).as(args + ": " + r.err()).isEqualTo(CircuitTracerCommand.EXIT_USER);
            assertThat(r.err()).as(args.toString()).contains(expected);
        });
        CircuitTracerCommandTest.Run unsupportedRun = run("export-onnx", "--model", unsupported.toString(),
                "--output", out);
        assertThat(unsupportedRun.err()).contains("UNSUPPORTED_ARCHITECTURE").contains("export-onnx exports");
        assertThat(dir.resolve("out")).doesNotExist();
        assertThat(full.resolve("model.onnx")).doesNotExist();
    }

    @Test
    void helpShowsExamplesAndPluginsListsTheOnnxBackend() {
        CircuitTracerCommandTest.Run help = run("export-onnx", "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("--external-data").contains("--force").contains("Examples:")
                .contains("circuit-tracer export-onnx --model");
        assertThat(run("--help").out()).contains("export-onnx");
        CircuitTracerCommandTest.Run plugins = run("plugins");
        assertThat(plugins.exit()).as(plugins.err()).isZero();
        assertThat(plugins.out()).containsPattern("backend\\s+djl\\s").containsPattern("backend\\s+onnx\\s");
    }

    @Test
    void withoutBackendTheMostSureBackendDecides(@TempDir Path dir) throws IOException {
        Path onnxExport = Files.createDirectories(dir.resolve("onnx"));
        Files.writeString(onnxExport.resolve("model.onnx"), "");
        Path huggingFace = Files.createDirectories(dir.resolve("hf"));
        Files.writeString(huggingFace.resolve("model.safetensors"), "");
        Path both = Files.createDirectories(dir.resolve("both"));
        Files.writeString(both.resolve("model.onnx"), "");
        Files.writeString(both.resolve("model-00001-of-00002.safetensors"), "");
        Path neither = Files.createDirectories(dir.resolve("neither"));
        // as the real backends answer: djl is sure with safetensors and could try without; onnx needs model.onnx
        Fake djl = new Fake("djl", d -> Files.exists(d.resolve("model.safetensors"))
                || Files.exists(d.resolve("model-00001-of-00002.safetensors")) ? Recognition.certain("safetensors")
                : Files.exists(d.resolve("model.onnx")) ? Recognition.possible("config only")
                : Recognition.none("no config.json"));
        Fake onnx = new Fake("onnx", d -> Files.exists(d.resolve("model.onnx")) ? Recognition.certain("model.onnx")
                : Recognition.none("no model.onnx"));
        ProviderRegistry installed = registry(djl, onnx);

        BackendChoice.Choice export = BackendChoice.choose(installed, null, onnxExport);
        assertThat(export.provider().name()).isEqualTo("onnx");
        assertThat(export.reason()).contains("chose backend 'onnx'").contains("model.onnx").contains("djl could open")
                .contains("--backend");
        BackendChoice.Choice hf = BackendChoice.choose(installed, null, huggingFace);
        assertThat(hf.provider().name()).isEqualTo("djl");
        assertThat(hf.reason()).isNull();
        BackendChoice.Choice tie = BackendChoice.choose(installed, null, both);
        assertThat(tie.provider().name()).as("the default wins a tie").isEqualTo("djl");
        assertThat(tie.reason()).contains("equally sure").contains("--backend");
        BackendChoice.Choice none = BackendChoice.choose(installed, null, neither);
        assertThat(none.provider().name()).as("the default's own error explains").isEqualTo("djl");
        assertThat(BackendChoice.choose(installed, "onnx", huggingFace).provider().name()).isEqualTo("onnx");

        ProviderRegistry noDefault = registry(new Fake("other", d -> Recognition.certain("x")),
                new Fake("zeta", d -> Recognition.certain("y")));
        assertThatThrownBy(() -> BackendChoice.choose(noDefault, null, neither))
                .isInstanceOf(CircuitTracerException.class).hasMessageContaining("other (certain: x)")
                .hasMessageContaining("zeta (certain: y)").hasMessageContaining("--backend NAME");
        assertThatThrownBy(() -> BackendChoice.choose(registry(), null, neither))
                .isInstanceOf(CircuitTracerException.class).hasMessageContaining("No backend is installed");
    }

    private static void assertSameGraph(AttributionGraph onnx, AttributionGraph djl) {
        assertThat(onnx.tokens().ids()).containsExactly(djl.tokens().ids());
        assertThat(features(onnx.activeFeatures())).isEqualTo(features(djl.activeFeatures()));
        assertThat(features(onnx.selected())).isEqualTo(features(djl.selected()));
        assertThat(onnx.logits().stream().map(Node.LogitNode::vocabIndex).toList())
                .isEqualTo(djl.logits().stream().map(Node.LogitNode::vocabIndex).toList());
        int n = djl.size();
        assertThat(onnx.size()).isEqualTo(n);
        double scale = 1;
        double worst = 0;
        for (int t = 0; t < n; t++) {
            for (int s = 0; s < n; s++) {
                scale = Math.max(scale, Math.abs(djl.adjacency().get(t, s)));
                worst = Math.max(worst, Math.abs(onnx.adjacency().get(t, s) - djl.adjacency().get(t, s)));
            }
        }
        assertThat(worst / scale).as("largest edge difference relative to the largest edge").isLessThan(TOLERANCE);
    }

    private static void assertSameViewerGraph(JsonNode onnx, JsonNode djl) {
        List<String> nodes = new ArrayList<>();
        djl.get("nodes").forEach(node -> nodes.add(node.get("node_id").asText()));
        List<String> onnxNodes = new ArrayList<>();
        onnx.get("nodes").forEach(node -> onnxNodes.add(node.get("node_id").asText()));
        assertThat(onnxNodes).isEqualTo(nodes);
        Map<String, Double> links = links(djl);
        Map<String, Double> onnxLinks = links(onnx);
        assertThat(onnxLinks.keySet()).isEqualTo(links.keySet());
        double scale = Math.max(1, links.values().stream().mapToDouble(Math::abs).max().orElse(1));
        links.forEach((edge, weight) -> assertThat(Math.abs(onnxLinks.get(edge) - weight) / scale).as(edge)
                .isLessThan(TOLERANCE));
    }

    private static Map<String, Double> links(JsonNode graph) {
        Map<String, Double> links = new HashMap<>();
        graph.get("links").forEach(l -> links.put(l.get("source").asText() + "->" + l.get("target").asText(),
                l.get("weight").asDouble()));
        return links;
    }

    private static List<List<Integer>> features(List<Node.FeatureNode> nodes) {
        return nodes.stream().map(f -> List.of(f.layer(), f.position(), f.feature())).toList();
    }

    private static ProviderRegistry registry(BackendProvider... backends) {
        return new ProviderRegistry() {
            @Override
            @SuppressWarnings("unchecked")
            public <P extends Provider> List<P> all(ProviderKind<P> kind) {
                return kind == ProviderKind.BACKEND ? (List<P>) List.of(backends) : List.of();
            }

            @Override
            public List<ProviderInfo> describe() {
                return List.of();
            }
        };
    }

    /** A backend that answers recognition as told. */
    private record Fake(String name, java.util.function.Function<Path, Recognition> answer)
            implements BackendProvider {
        @Override
        public java.util.Set<BackendCapability> capabilities() {
            return java.util.Set.of();
        }

        @Override
        public Recognition recognize(Path directory) {
            return answer.apply(directory);
        }

        @Override
        public TransformerModel create(ModelSource source) {
            throw new UnsupportedOperationException();
        }
    }
}

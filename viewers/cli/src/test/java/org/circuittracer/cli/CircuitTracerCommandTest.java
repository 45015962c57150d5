package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.circuittracer.attribution.graphfile.GraphFile;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.testkit.SharedFixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

/** The command in-process on the tiny llama fixture and its per-layer transcoders; no network. */
class CircuitTracerCommandTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static Path model;
    private static Path transcoders;
    private static String goldenIds;

    record Run(int exit, String out, String err) {
    }

    @BeforeAll
    static void fixtures() {
        model = SharedFixtures.resolve("tiny-models/llama");
        transcoders = SharedFixtures.resolve("tiny-transcoders/llama-plt-relu");
        try (SafetensorsFile golden = SafetensorsFile.open(model.resolve("golden.safetensors"))) {
            goldenIds = Arrays.stream(golden.readInts("p0.input_ids")).mapToObj(Integer::toString)
                    .collect(Collectors.joining(","));
        }
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = CircuitTracerCommand.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private static String[] attribute(Path dir, String[] options, String... more) {
        List<String> args = attribute(dir, options);
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    private static List<String> attribute(Path dir, String... more) {
        List<String> args = new ArrayList<>(List.of("attribute", "--model", model.toString(), "--transcoders",
                transcoders.toString(), "--slug", "p0", "--graph-file-dir", dir.toString()));
        args.addAll(List.of(more));
        return args;
    }

    @Test
    void attributeWritesTheViewerGraphTheIndexTheGraphFileAndTimings(@TempDir Path dir) throws IOException {
        Path graphFile = dir.resolve("out/p0.ctgraph");
        Path timings = dir.resolve("out/timings.json");
        Run r = run(attribute(dir.resolve("graphs"), "--prompt-ids", goldenIds, "--graph-output-path",
                graphFile.toString(), "--timings", timings.toString(), "--node-threshold", "0.7").toArray(String[]::new));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("Wrote").contains("p0.json");
        assertThat(r.err()).contains("reference-plt").contains("feature rows");

        JsonNode json = MAPPER.readTree(dir.resolve("graphs/p0.json").toFile());
        assertThat(json.get("nodes").size()).isPositive();
        assertThat(json.get("links").size()).isPositive();
        assertThat(json.get("metadata").get("slug").asText()).isEqualTo("p0");
        assertThat(json.get("metadata").get("node_threshold").asDouble()).isEqualTo(0.7);
        assertThat(json.get("metadata").get("prompt_tokens")).hasSize(goldenIds.split(",").length);
        // the summary line's scores are the ones stored in the file's metadata
        JsonNode scores = json.get("metadata").get("graph_scores");
        assertThat(r.out()).contains(String.format(java.util.Locale.ROOT,
                "Scores: replacement %.3f, completeness %.3f", scores.get("replacement").asDouble(),
                scores.get("completeness").asDouble()));

        JsonNode index = MAPPER.readTree(dir.resolve("graphs/graph-metadata.json").toFile());
        assertThat(index.get("graphs")).hasSize(1);
        assertThat(index.get("graphs").get(0).get("slug").asText()).isEqualTo("p0");

        AttributionGraph graph = GraphFile.load(graphFile);
        assertThat(graph.tokens().ids()).containsExactly(Arrays.stream(goldenIds.split(","))
                .mapToInt(Integer::parseInt).toArray());
        assertThat(graph.logits()).isNotEmpty();

        JsonNode t = MAPPER.readTree(timings.toFile());
        for (String phase : List.of("PRECOMPUTE", "LINEARIZE", "LOGIT_ROWS", "FEATURE_ROWS", "ASSEMBLE")) {
            assertThat(t.get("phases").get(phase).asDouble()).as(phase).isGreaterThanOrEqualTo(0);
        }
        assertThat(t.get("total_s").asDouble()).isPositive();
        assertThat(t.get("tokens").asInt()).isEqualTo(graph.tokens().length());
    }

    /**
     * Nothing pruned on golden prompt 0 keeps error (layer 0, position 1) and feature (layer 0, index 0, position 1),
     * both 0_0_1 in the reference's scheme: the graph is written with the error renamed and one warning; strict mode
     * refuses but saves the computed graph, and export writes the same viewer JSON from it without recomputing.
     */
    @Test
    void aNodeIdCollisionNeverLosesTheGraph(@TempDir Path dir) throws IOException {
        String[] everything = {"--prompt-ids", goldenIds, "--node-threshold", "1", "--edge-threshold", "1"};
        Run r = run(attribute(dir.resolve("graphs"), everything).toArray(String[]::new));
        assertThat(r.exit()).as(r.err()).isZero();
        List<String> warnings = r.err().lines().filter(l -> l.startsWith("warning:")).toList();
        assertThat(warnings).singleElement().asString().contains("0_0_1 -> 0_0_1_error").contains("--strict-node-ids");
        JsonNode written = MAPPER.readTree(dir.resolve("graphs/p0.json").toFile());
        List<String> ids = new ArrayList<>();
        written.get("nodes").forEach(n -> ids.add(n.get("node_id").asText()));
        assertThat(ids).contains("0_0_1", "0_0_1_error").doesNotHaveDuplicates();

        Path strictDir = dir.resolve("strict");
        Run strict = run(attribute(strictDir, everything, "--strict-node-ids"));
        assertThat(strict.exit()).isEqualTo(2);
        assertThat(strict.err()).contains("Node id collision").contains("circuit-tracer export");
        assertThat(strictDir.resolve("p0.json")).doesNotExist();
        Path saved = strictDir.resolve("p0" + ExportCommand.GRAPH_FILE_SUFFIX);
        assertThat(strict.err()).contains(saved.toString());
        assertThat(GraphFile.load(saved).tokens().length()).isEqualTo(goldenIds.split(",").length);

        Run export = run("export", saved.toString(), "--model", model.toString(), "--transcoders",
                transcoders.toString(), "--graph-file-dir", strictDir.toString(), "--node-threshold", "1",
                "--edge-threshold", "1", "--quiet");
        assertThat(export.exit()).as(export.err()).isZero();
        assertThat(export.err()).contains("warning:").contains("0_0_1_error");
        JsonNode exported = MAPPER.readTree(strictDir.resolve("p0.json").toFile());
        assertThat(exported.get("nodes")).isEqualTo(written.get("nodes"));
        assertThat(exported.get("links")).isEqualTo(written.get("links"));
        assertThat(exported.get("metadata").get("slug").asText()).isEqualTo("p0");

        Run wrongModel = run("export", saved.toString(), "--graph-file-dir", strictDir.toString(), "--quiet");
        assertThat(wrongModel.exit()).isEqualTo(2);
        assertThat(wrongModel.err()).contains("Give the graph's model with --model");
    }

    /**
     * Every feature with an edge budget of 4 KiB: the rows spill, the graph's edges live in a temporary file, and the
     * viewer JSON, the graph file and an export from that file are the same as with the edges in memory.
     */
    @Test
    void edgesBeyondTheMemoryBudgetGiveTheSameFiles(@TempDir Path dir) throws IOException {
        String[] all = {"--prompt-ids", goldenIds, "--max-feature-nodes", "0"};
        Run held = run(attribute(dir.resolve("held"), all, "--graph-output-path", dir.resolve("held.ctgraph").toString()));
        assertThat(held.exit()).as(held.err()).isZero();
        String budget = System.getProperty("circuittracer.edges.memory");
        System.setProperty("circuittracer.edges.memory", "4k");
        System.setProperty("circuittracer.edges.dir", dir.toString());
        try {
            Run spilled = run(attribute(dir.resolve("spilled"), all, "--graph-output-path",
                    dir.resolve("spilled.ctgraph").toString()));
            assertThat(spilled.exit()).as(spilled.err()).isZero();
            Run export = run("export", dir.resolve("spilled.ctgraph").toString(), "--model", model.toString(),
                    "--transcoders", transcoders.toString(), "--graph-file-dir", dir.resolve("exported").toString(),
                    "--slug", "p0", "--quiet");
            assertThat(export.exit()).as(export.err()).isZero();
        } finally {
            if (budget == null) {
                System.clearProperty("circuittracer.edges.memory");
            } else {
                System.setProperty("circuittracer.edges.memory", budget);
            }
            System.clearProperty("circuittracer.edges.dir");
        }
        JsonNode expected = MAPPER.readTree(dir.resolve("held/p0.json").toFile());
        for (String written : List.of("spilled/p0.json", "exported/p0.json")) {
            JsonNode json = MAPPER.readTree(dir.resolve(written).toFile());
            assertThat(json.get("nodes")).as(written).isEqualTo(expected.get("nodes"));
            assertThat(json.get("links")).as(written).isEqualTo(expected.get("links"));
            assertThat(json.get("metadata").get("graph_scores")).as(written)
                    .isEqualTo(expected.get("metadata").get("graph_scores"));
        }
        assertThat(expected.get("links").size()).isPositive();
        assertThat(GraphFile.load(dir.resolve("spilled.ctgraph")).adjacency())
                .isEqualTo(GraphFile.load(dir.resolve("held.ctgraph")).adjacency());
        try (var files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("circuit-tracer-rows-")))
                    .as("spilled rows are deleted").isEmpty();
        }
    }

    /** A TopK set whose files don't record k (as circuit-tracer's crv sets): --topk supplies it. */
    @Test
    void topKTranscodersWithoutAKInTheirFilesTakeTopk(@TempDir Path dir) throws IOException {
        Path topk = dir.resolve("llama-plt-topk");
        Files.createDirectories(topk);
        try (var files = Files.list(transcoders)) {
            for (Path f : files.toList()) {
                Files.copy(f, topk.resolve(f.getFileName().toString()));
            }
        }
        String config = Files.readString(topk.resolve("config.yaml")).replaceAll("(?m)^activation:.*$", "")
                .replaceAll("(?m)^scan:.*$", "") + "\nactivation: topk\n";
        Files.writeString(topk.resolve("config.yaml"), config);
        List<String> args = new ArrayList<>(List.of("attribute", "--model", model.toString(), "--transcoders",
                topk.toString(), "--prompt-ids", goldenIds, "--slug", "k", "--graph-file-dir",
                dir.resolve("graphs").toString(), "--quiet", "--graph-output-path", dir.resolve("k.ctgraph").toString()));
        Run missing = run(args.toArray(String[]::new));
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("--topk");

        Run bad = run("attribute", "--topk", "0", "--model", model.toString(), "--transcoders", topk.toString());
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("--topk must be at least 1");

        args.addAll(List.of("--topk", "4"));
        Run ok = run(args.toArray(String[]::new));
        assertThat(ok.exit()).as(ok.err()).isZero();
        AttributionGraph graph = GraphFile.load(dir.resolve("k.ctgraph"));
        int positions = graph.tokens().length();
        // at most k = 4 features fire per layer and position (TopK keeps the k largest pre-activations)
        java.util.Map<String, Integer> perSite = new java.util.HashMap<>();
        graph.activeFeatures().forEach(f -> perSite.merge(f.layer() + ":" + f.position(), 1, Integer::sum));
        assertThat(perSite.values()).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(4));
        assertThat(perSite).isNotEmpty();
        assertThat(positions).isPositive();
    }

    @Test
    void promptIdsWithoutASpecialTokenGetOnePrependedAndQuietSilencesProgress(@TempDir Path dir) throws IOException {
        String withoutBos = goldenIds.substring(goldenIds.indexOf(',') + 1);
        Run r = run(attribute(dir, "--prompt-ids", withoutBos, "--quiet", "--max-feature-nodes", "20",
                "--batch-size", "8", "--graph-output-path", dir.resolve("g.ctgraph").toString())
                .toArray(String[]::new));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        AttributionGraph graph = GraphFile.load(dir.resolve("g.ctgraph"));
        assertThat(graph.tokens().length()).isEqualTo(goldenIds.split(",").length);
        assertThat(graph.tokens().get(0)).isEqualTo(Integer.parseInt(goldenIds.split(",")[0]));
        assertThat(graph.selected().size()).isLessThanOrEqualTo(20);
    }

    @Test
    void aTextPromptFromTheTokenizerVocabularyWorks(@TempDir Path dir) throws IOException {
        Run r = run(attribute(dir, "--prompt", "the cat was on the", "--quiet", "--dictionary-format",
                "reference-plt").toArray(String[]::new));
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode json = MAPPER.readTree(dir.resolve("p0.json").toFile());
        JsonNode tokens = json.get("metadata").get("prompt_tokens");
        assertThat(tokens.size()).isGreaterThanOrEqualTo(5);
        assertThat(tokens.get(0).asText()).isEqualTo("<|begin_of_text|>");
        assertThat(json.get("links").size()).isPositive();
    }

    @Test
    void pluginsListsTheBuiltInProviders() {
        Run r = run("plugins");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("KIND").containsPattern("backend\\s+djl\\s")
                .containsPattern("attributor\\s+exact\\s").containsPattern("dictionary format\\s+reference-plt\\s");
    }

    @Test
    void pluginsReadsJarsFromThePluginsDirectory() {
        Path dir = Path.of("target/test-plugins");
        assertThat(dir.resolve("circuit-tracer-test-plugin.jar")).exists();
        Run r = run("plugins", "--plugins", dir.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("attributor\\s+test-fixture\\s+test-plugins/circuit-tracer-test-plugin.jar")
                .containsPattern("attributor\\s+exact\\s+class path");
        assertThat(run("plugins").out()).doesNotContain("test-fixture");
    }

    @Test
    void helpAndVersion() {
        Run help = run("attribute", "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("--prompt-ids").contains("Example").contains("demo model").contains("--target")
                .contains("--dtype").contains("--transcoder-set")
                .contains("default: 7500").contains("default: 0.98");
        Run version = run("--version");
        assertThat(version.exit()).isZero();
        assertThat(version.out()).contains("circuit-tracer");
        assertThat(run("plugins", "--help").out()).contains("Example");
    }

    @Test
    void usageErrorsExitWithTwo(@TempDir Path dir) {
        Run missingTranscoders = run("attribute", "--model", model.toString(), "--prompt-ids", "0,1",
                "--slug", "x", "--graph-file-dir", dir.toString());
        assertThat(missingTranscoders.exit()).isEqualTo(2);
        assertThat(missingTranscoders.err()).contains("--transcoders").contains("Usage:");

        Run missingPrompt = run("attribute", "--model", model.toString(), "--transcoders", transcoders.toString(),
                "--slug", "x", "--graph-file-dir", dir.toString());
        assertThat(missingPrompt.exit()).isEqualTo(2);
        assertThat(missingPrompt.err()).contains("--prompt").contains("demo").doesNotContain("Loading model");

        Run badDtype = run(attribute(dir, "--prompt-ids", "0,3", "--dtype", "int8").toArray(String[]::new));
        assertThat(badDtype.exit()).isEqualTo(2);
        assertThat(badDtype.err()).contains("--dtype").contains("float16");

        Run both = run(attribute(dir, "--prompt", "the", "--prompt-ids", "0,3").toArray(String[]::new));
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("mutually exclusive");

        Run badIds = run(attribute(dir, "--prompt-ids", "0,x,3").toArray(String[]::new));
        assertThat(badIds.exit()).isEqualTo(2);
        assertThat(badIds.err()).contains("'x' is not a token id");

        Run negative = run(attribute(dir, "--prompt-ids", "0,-3").toArray(String[]::new));
        assertThat(negative.exit()).isEqualTo(2);

        for (String[] bad : List.of(new String[] {"--node-threshold", "1.5"}, new String[] {"--edge-threshold", "-0.1"},
                new String[] {"--desired-logit-prob", "0"}, new String[] {"--max-n-logits", "0"},
                new String[] {"--batch-size", "0"}, new String[] {"--max-feature-nodes", "-1"})) {
            Run r = run(attribute(dir, "--prompt-ids", "0,3", bad[0], bad[1]).toArray(String[]::new));
            assertThat(r.exit()).as(bad[0]).isEqualTo(2);
            assertThat(r.err()).as(bad[0]).contains(bad[0]).contains("Usage:").doesNotContain("Loading model");
        }
        Run badSlug = run("attribute", "--model", model.toString(), "--transcoders", transcoders.toString(),
                "--prompt-ids", "0,3", "--slug", "../escape", "--graph-file-dir", dir.toString());
        assertThat(badSlug.exit()).isEqualTo(2);
        assertThat(badSlug.err()).contains("file-safe").doesNotContain("Loading model");

        Run unknownOption = run("attribute", "--frobnicate");
        assertThat(unknownOption.exit()).isEqualTo(2);
        assertThat(run().exit()).isEqualTo(2);
    }

    @Test
    void userErrorsPrintTheCodeWithoutAStackTraceAndExitWithTwo(@TempDir Path dir) throws IOException {
        Run backend = run(attribute(dir, "--prompt-ids", goldenIds, "--backend", "nope").toArray(String[]::new));
        assertThat(backend.exit()).isEqualTo(2);
        assertThat(backend.err()).startsWith("error: [PROVIDER_NOT_FOUND]").contains("'nope'").contains("djl")
                .doesNotContain("\tat ");

        Path empty = Files.createDirectories(dir.resolve("not-transcoders"));
        Files.writeString(empty.resolve("readme.txt"), "nothing here");
        Run format = run("attribute", "--model", model.toString(), "--transcoders", empty.toString(), "--prompt-ids",
                goldenIds, "--slug", "x", "--graph-file-dir", dir.toString());
        assertThat(format.exit()).isEqualTo(2);
        assertThat(format.err()).startsWith("error: [INVALID_ARGUMENT] No dictionary format recognises")
                .contains("reference-plt").contains("reference-clt").contains("--dictionary-format");

        Run outOfVocabulary = run(attribute(dir, "--prompt-ids", "0,999999").toArray(String[]::new));
        assertThat(outOfVocabulary.exit()).isEqualTo(2);
        assertThat(outOfVocabulary.err()).contains("error: [INVALID_ARGUMENT] Token id 999999").doesNotContain("\tat ");

        Run verbose = run(attribute(dir, "--prompt-ids", goldenIds, "--backend", "nope", "--verbose")
                .toArray(String[]::new));
        assertThat(verbose.exit()).isEqualTo(2);
        assertThat(verbose.err()).contains("\tat ");

        Run missingDir = run("attribute", "--model", dir.resolve("absent").toString(), "--transcoders",
                transcoders.toString(), "--prompt-ids", "0", "--slug", "x", "--graph-file-dir", dir.toString());
        assertThat(missingDir.exit()).isEqualTo(2);
        assertThat(missingDir.err()).startsWith("error: [FILE_NOT_FOUND]");
    }

    @Test
    void exitCodesFollowTheCategories() {
        assertThat(CircuitTracerCommand.exitCode(org.circuittracer.spi.ErrorCategory.USER_ERROR)).isEqualTo(2);
        assertThat(CircuitTracerCommand.exitCode(org.circuittracer.spi.ErrorCategory.PLUGIN_ERROR)).isEqualTo(3);
        assertThat(CircuitTracerCommand.exitCode(org.circuittracer.spi.ErrorCategory.INTERNAL_ERROR)).isEqualTo(4);
        assertThat(CircuitTracerCommand.exitCode(org.circuittracer.spi.ErrorCategory.INSUFFICIENT_RESOURCES))
                .isEqualTo(5);
    }
}

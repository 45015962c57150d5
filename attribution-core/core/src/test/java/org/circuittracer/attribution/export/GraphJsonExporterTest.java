package org.circuittracer.attribution.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.exact.ExactAttributor;
import org.circuittracer.attribution.prune.GraphPruning;
import org.circuittracer.attribution.prune.PruneResult;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Viewer graph JSON export (docs/reference/graph-format.md §2-3) of graphs computed on the tiny fixtures. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GraphJsonExporterTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** Node equality where numbers compare by value (an int written as a long parses back as an int). */
    private static final java.util.Comparator<JsonNode> NUMERIC = (x, y) -> x.isNumber() && y.isNumber()
            ? x.decimalValue().compareTo(y.decimalValue()) : x.equals(y) ? 0 : 1;
    private final Map<String, AttributionGraph> graphs = new HashMap<>();
    private final Map<String, List<String>> promptTokens = new HashMap<>();
    private JsonNode schema;

    @BeforeAll
    void computeGraphs() throws IOException {
        schema = resource("neuronpedia-graph-schema.json");
        try (TransformerModel model = TinyFixtures.openModel("llama")) {
            TokenSequence tokens = TinyFixtures.prompt("llama", 0);
            for (String name : List.of("llama-plt-relu", "llama-clt-relu")) {
                try (SparseDictionary dictionary = TinyFixtures.openDictionary(name)) {
                    graphs.put(name, new ExactAttributor().attribute(AttributionRequest.withDefaults(model, dictionary,
                            tokens), AttributionListener.NONE));
                }
            }
            promptTokens.put("llama", ExportOptions.decodeEach(model.tokenizer(), tokens));
        }
    }

    private static JsonNode resource(String name) throws IOException {
        try (InputStream in = GraphJsonExporterTest.class.getResourceAsStream("/graph-format/" + name)) {
            return MAPPER.readTree(in);
        }
    }

    @Test
    void theValidatorAcceptsTheReferenceExampleAndRejectsBrokenCopies() throws IOException {
        JsonNode example = resource("example-graph.json");
        assertThat(JsonSchemaSubset.validate(schema, example)).isEmpty();
        ObjectNode broken = example.deepCopy();
        ((ObjectNode) broken.get("metadata")).remove("scan");
        ((ObjectNode) broken.get("nodes").get(0)).put("ctx_idx", "2");
        ((ObjectNode) broken.get("qParams")).putNull("sg_pos");
        assertThat(JsonSchemaSubset.validate(schema, broken)).containsExactlyInAnyOrder(
                "$.metadata: missing required property 'scan'",
                "$.nodes[0].ctx_idx: expected type \"integer\", got STRING",
                "$.qParams.sg_pos: expected type \"string\", got NULL");
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-plt-relu", "llama-clt-relu"})
    void exportedGraphsValidateAndMatchTheAdjacency(String name, @TempDir Path dir) throws IOException {
        AttributionGraph graph = graphs.get(name);
        ExportOptions options = ExportOptions.of(name + "-p0", promptTokens.get("llama"));
        GraphJsonExporter.Result result = GraphJsonExporter.export(graph, options, dir);

        assertThat(result.graphFile()).isEqualTo(dir.resolve(name + "-p0.json"));
        String text = Files.readString(result.graphFile(), StandardCharsets.UTF_8);
        assertThat(text).doesNotContain("NaN").doesNotContain("Infinity");
        JsonNode json = MAPPER.readTree(text);
        assertThat(JsonSchemaSubset.validate(schema, json)).isEmpty();
        // round trip: what was written parses back to what was built
        assertThat(json.equals(NUMERIC, GraphJsonExporter.build(graph, options).json())).as("round trip").isTrue();

        JsonNode metadata = json.get("metadata");
        assertThat(metadata.get("slug").asText()).isEqualTo(name + "-p0");
        assertThat(metadata.get("scan").asText()).isEqualTo(graph.scan()).isNotEmpty();
        assertThat(metadata.get("prompt").asText()).isEqualTo(graph.inputString());
        assertThat(MAPPER.convertValue(metadata.get("prompt_tokens"), List.class)).isEqualTo(promptTokens.get("llama"));
        assertThat(metadata.get("node_threshold").asDouble()).isEqualTo(0.8);
        assertThat(metadata.get("schema_version").asInt()).isEqualTo(1);
        assertThat(metadata.get("transcoder_list").isArray()).isTrue();
        // the unpruned graph's scores, which the pruned file cannot give
        assertThat(metadata.get("graph_scores").get("replacement").asDouble()).isEqualTo(
                org.circuittracer.attribution.prune.GraphScores.replacementScore(graph));
        assertThat(metadata.get("graph_scores").get("completeness").asDouble()).isEqualTo(
                org.circuittracer.attribution.prune.GraphScores.completenessScore(graph));
        assertThat(json.get("qParams")).isEqualTo(MAPPER.readTree(
                "{\"pinnedIds\":[],\"supernodes\":[],\"linkType\":\"both\",\"clickedId\":\"\",\"sg_pos\":\"\"}"));

        // node ids back to graph indices: ids are unique within a kind (across kinds, an unemitted error may share a
        // layer-0 feature's id); the emitted ids are checked for uniqueness below
        List<Node> nodes = graph.nodes();
        Map<String, Integer> byKind = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            assertThat(byKind.put(kind(nodes.get(i)) + "|" + GraphJsonExporter.nodeId(graph, nodes.get(i)), i))
                    .as("unique ids").isNull();
        }
        Map<String, Integer> index = new HashMap<>();
        for (JsonNode node : json.get("nodes")) {
            String id = node.get("node_id").asText();
            index.put(id, byKind.get(node.get("feature_type").asText() + "|" + referenceId(id)));
        }
        PruneResult pruned = GraphPruning.prune(graph, 0.8, 0.98);
        int length = graph.tokens().length();
        Set<String> emitted = new HashSet<>();
        int embeddings = 0;
        int logits = 0;
        for (JsonNode node : json.get("nodes")) {
            String id = node.get("node_id").asText();
            assertThat(emitted.add(id)).as("duplicate node %s", id).isTrue();
            int i = index.get(id);
            Node n = nodes.get(i);
            assertThat(pruned.keepsNode(i)).as("kept: %s", id).isTrue();
            assertThat(node.get("ctx_idx").asInt()).isBetween(0, length - 1);
            assertThat(node.get("run_idx").asInt()).isZero();
            assertThat(node.get("reverse_ctx_idx").asInt()).isZero();
            assertThat(node.get("clerp").isTextual()).isTrue();
            switch (node.get("feature_type").asText()) {
                case "cross layer transcoder" -> {
                    Node.FeatureNode f = (Node.FeatureNode) n;
                    long z = node.get("feature").asLong();
                    assertThat(z).isEqualTo(cantor(f.layer(), f.feature()));
                    assertThat(unpair(z)).containsExactly(f.layer(), f.feature());
                    assertThat(node.get("layer").asText()).isEqualTo(Integer.toString(f.layer()));
                    assertThat(node.get("jsNodeId").asText()).isEqualTo(f.layer() + "_" + f.feature() + "-0");
                    assertThat(node.get("activation").asDouble()).isEqualTo((double) f.activation());
                    assertThat(node.get("influence").asDouble()).isEqualTo(pruned.cumulativeScores()[i]);
                    assertThat(node.get("clerp").asText()).isEmpty();
                }
                case "mlp reconstruction error" -> {
                    Node.ErrorNode e = (Node.ErrorNode) n;
                    assertThat(node.get("feature").asLong()).isEqualTo(-1);
                    assertThat(node.get("jsNodeId").asText()).isEqualTo(e.layer() + "_" + e.position() + "-0");
                    assertThat(node.get("activation").isNull()).isTrue();
                    assertThat(node.get("influence").asDouble()).isBetween(0.0, 1.0);
                }
                case "embedding" -> {
                    Node.TokenNode t = (Node.TokenNode) n;
                    embeddings++;
                    assertThat(node.get("layer").asText()).isEqualTo("E");
                    assertThat(node.get("feature").asInt()).isEqualTo(t.position());
                    assertThat(node.get("jsNodeId").asText()).isEqualTo("E_" + t.tokenId() + "-" + t.position());
                }
                case "logit" -> {
                    Node.LogitNode l = (Node.LogitNode) n;
                    int k = i - graph.logitIndex(0);
                    logits++;
                    assertThat(id).isEqualTo((graph.model().layers() + 1) + "_" + l.vocabIndex() + "_" + (length - 1));
                    assertThat(node.get("layer").asText()).isEqualTo(Integer.toString(graph.model().layers() + 1));
                    assertThat(node.get("ctx_idx").asInt()).isEqualTo(length - 1);
                    assertThat(node.get("jsNodeId").asText()).isEqualTo("L_" + l.vocabIndex() + "-" + (length - 1));
                    assertThat(node.get("token_prob").asDouble()).isEqualTo((double) l.weight());
                    assertThat(node.get("is_target_logit").asBoolean()).isEqualTo(k == 0);
                    assertThat(node.get("influence").isNull()).isTrue();
                    assertThat(node.get("clerp").asText()).isEqualTo(String.format(java.util.Locale.ROOT,
                            "Output \"%s\" (p=%.3f)", l.label(), l.weight()));
                }
                default -> throw new AssertionError("unexpected feature_type in " + node);
            }
        }
        assertThat(embeddings).isEqualTo(length);
        assertThat(logits).isEqualTo(graph.logits().size()).isPositive();

        EdgeMatrix a = graph.adjacency();
        Set<String> pairs = new HashSet<>();
        Set<String> linked = new HashSet<>();
        assertThat(json.get("links").size()).isPositive();
        for (JsonNode link : json.get("links")) {
            String s = link.get("source").asText();
            String t = link.get("target").asText();
            assertThat(emitted).contains(s, t);
            assertThat(pairs.add(s + ">" + t)).as("duplicate link").isTrue();
            double w = link.get("weight").asDouble();
            assertThat(w).isNotZero().isEqualTo((double) a.get(index.get(t), index.get(s)));
            assertThat(nodes.get(index.get(s)).position()).isLessThanOrEqualTo(nodes.get(index.get(t)).position());
            linked.add(s);
            linked.add(t);
        }
        // features and errors appear only when linked
        for (JsonNode node : json.get("nodes")) {
            String type = node.get("feature_type").asText();
            if (type.equals("cross layer transcoder") || type.equals("mlp reconstruction error")) {
                assertThat(linked).contains(node.get("node_id").asText());
            }
        }
        assertThat(result.nodes()).isEqualTo(json.get("nodes").size());
        assertThat(result.links()).isEqualTo(json.get("links").size());
    }

    @Test
    void theIndexKeepsOtherEntriesAndReplacesTheSlug(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("graph-metadata.json"), """
                {"graphs": [
                  {"slug": "first", "scan": "s", "prompt": "a", "node_threshold": 0.8, "title_prefix": "keep me"},
                  {"slug": "llama-p0", "scan": "old", "prompt": "stale", "node_threshold": 0.5},
                  {"slug": "last", "scan": "s", "prompt": "ü", "node_threshold": 0.8}
                ], "extra": 1}
                """);
        AttributionGraph graph = graphs.get("llama-plt-relu");
        GraphJsonExporter.export(graph, ExportOptions.of("llama-p0", promptTokens.get("llama")), dir);
        GraphJsonExporter.export(graph, ExportOptions.of("llama-p0", promptTokens.get("llama"))
                .withThresholds(0.9, 0.98).withCreateTimeMs(1735732800000L), dir);
        String text = Files.readString(dir.resolve("graph-metadata.json"));
        assertThat(text).contains("\\u00FC").doesNotContain("ü");
        JsonNode index = MAPPER.readTree(text);
        assertThat(index.get("extra").asInt()).isEqualTo(1);
        JsonNode entries = index.get("graphs");
        assertThat(entries).hasSize(3);
        assertThat(entries.get(0).get("slug").asText()).isEqualTo("first");
        assertThat(entries.get(0).get("title_prefix").asText()).isEqualTo("keep me");
        assertThat(entries.get(1).get("slug").asText()).isEqualTo("last");
        assertThat(entries.get(1).get("prompt").asText()).isEqualTo("ü");
        JsonNode added = entries.get(2);
        assertThat(added).isEqualTo(MAPPER.readTree(dir.resolve("llama-p0.json").toFile()).get("metadata"));
        assertThat(added.get("node_threshold").asDouble()).isEqualTo(0.9);
        assertThat(added.get("info").get("create_time_ms").asLong()).isEqualTo(1735732800000L);
        assertThat(added.get("pruning_settings").get("edge_threshold").asDouble()).isEqualTo(0.98);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("graph-metadata.json",
                    "llama-p0.json");
        }
    }

    @Test
    void aNewDirectoryGetsAFreshIndexAndAMalformedIndexIsNotOverwritten(@TempDir Path dir) throws IOException {
        Path fresh = dir.resolve("new/sub");
        GraphJsonExporter.export(graphs.get("llama-clt-relu"), ExportOptions.of("g", promptTokens.get("llama")), fresh);
        JsonNode index = MAPPER.readTree(fresh.resolve("graph-metadata.json").toFile());
        assertThat(index.get("graphs")).hasSize(1);
        assertThat(index.get("graphs").get(0).get("slug").asText()).isEqualTo("g");

        Files.writeString(dir.resolve("graph-metadata.json"), "{\"graphs\": [ oops");
        assertThatThrownBy(() -> GraphJsonExporter.export(graphs.get("llama-clt-relu"),
                ExportOptions.of("g", promptTokens.get("llama")), dir))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE))
                .hasMessageContaining("graph-metadata.json");
        assertThat(Files.readString(dir.resolve("graph-metadata.json"))).isEqualTo("{\"graphs\": [ oops");
    }

    @Test
    void anEdgeThresholdOfOneNeverEmitsZeroWeightLinks() {
        AttributionGraph graph = graphs.get("llama-plt-relu");
        ExportOptions everything = ExportOptions.of("all", promptTokens.get("llama")).withThresholds(1.0, 1.0);
        // keeping everything keeps error 0_0_1 and feature (layer 0, index 0, position 1): a real collision
        assertThatThrownBy(() -> GraphJsonExporter.build(graph, everything.withStrictNodeIds(true)))
                .hasMessageContaining("Node id collision");
        GraphJsonExporter.Built built = GraphJsonExporter.build(graph, everything);
        assertThat(built.renamed()).extracting(GraphJsonExporter.RenamedNode::referenceId).contains("0_0_1");
        assertThat(built.warnings()).hasSize(1);
        JsonNode json = built.json();
        assertEveryNodeKeptUnderADistinctIdWithItsLinks(graph, json);
        assertThat(JsonSchemaSubset.validate(schema, json)).isEmpty();
        assertThat(json.get("links").size()).isPositive();
        for (JsonNode link : json.get("links")) {
            assertThat(link.get("weight").asDouble()).isNotZero();
        }
        assertThat(json.get("metadata").get("node_threshold").asDouble()).isEqualTo(1.0);
    }

    /**
     * The main job never fails at its last step: every fixture model × transcoder set × golden prompt, at the default
     * thresholds and with nothing pruned, writes a graph that validates and keeps every node under a distinct id with
     * its links. Some of these graphs have error/feature id collisions (the reference would lose a node in each);
     * at least one must, or the renaming is not exercised.
     */
    @Test
    void everyFixtureSetAndPromptWritesItsGraph(@TempDir Path dir) throws IOException {
        int renamed = 0;
        int written = 0;
        for (TinyFixtures.Pair pair : TinyFixtures.PAIRS) {
            try (TransformerModel model = TinyFixtures.openModel(pair.model());
                 SparseDictionary dictionary = TinyFixtures.openDictionary(pair.dictionary())) {
                for (int k = 0; k < 3; k++) {
                    TokenSequence tokens = TinyFixtures.prompt(pair.model(), k);
                    AttributionGraph graph = new ExactAttributor().attribute(
                            AttributionRequest.withDefaults(model, dictionary, tokens), AttributionListener.NONE);
                    List<String> decoded = ExportOptions.decodeEach(model.tokenizer(), tokens);
                    for (double threshold : new double[] {GraphPruning.DEFAULT_NODE_THRESHOLD, 1.0}) {
                        String slug = pair.dictionary() + "-p" + k + "-" + threshold;
                        GraphJsonExporter.Result result = GraphJsonExporter.export(graph,
                                ExportOptions.of(slug, decoded).withThresholds(threshold, threshold), dir);
                        JsonNode json = MAPPER.readTree(result.graphFile().toFile());
                        assertThat(JsonSchemaSubset.validate(schema, json)).as(slug).isEmpty();
                        assertEveryNodeKeptUnderADistinctIdWithItsLinks(graph, json);
                        assertThat(result.warnings()).hasSize(result.renamed().isEmpty() ? 0 : 1);
                        renamed += result.renamed().size();
                        written++;
                    }
                }
            }
        }
        assertThat(written).isEqualTo(TinyFixtures.PAIRS.size() * 3 * 2);
        assertThat(renamed).as("collisions among the fixture graphs").isPositive();
        assertThat(MAPPER.readTree(dir.resolve("graph-metadata.json").toFile()).get("graphs")).hasSize(written);
    }

    @Test
    void badOptionsAreRejected() {
        List<String> tokens = promptTokens.get("llama");
        assertThatThrownBy(() -> ExportOptions.of("../escape", tokens)).isInstanceOf(CircuitTracerException.class)
                .hasMessageContaining("file-safe");
        assertThatThrownBy(() -> GraphJsonExporter.build(graphs.get("llama-plt-relu"),
                ExportOptions.of("x", tokens.subList(1, tokens.size())))).hasMessageContaining("promptTokens");
        assertThatThrownBy(() -> GraphJsonExporter.build(graphs.get("llama-plt-relu"),
                ExportOptions.of("x", tokens).withThresholds(1.5, 0.98))).hasMessageContaining("threshold");
    }

    @Test
    void logitLabelsRoundHalfEvenAsPythonDoes() {
        // (the feature ids: FeatureIdsTest, and every node of the fixture graphs above)
        assertThat(GraphJsonExporter.logitLabel(" on", 0.612f)).isEqualTo("Output \" on\" (p=0.612)");
        assertThat(GraphJsonExporter.logitLabel("x", 0.0625f)).isEqualTo("Output \"x\" (p=0.062)"); // exact tie: even
    }

    /**
     * Two layers, two positions; feature (layer 0, index 1, position 1) and error (layer 1, position 1) both get id
     * {@code 0_1_1} and both feed the logit.
     */
    static AttributionGraph collidingGraph() {
        return collidingGraph(1f);
    }

    /** {@link #collidingGraph()} with the weight of the edge logit ← error (1, 1) set to {@code errorWeight}. */
    static AttributionGraph collidingGraph(float errorWeight) {
        ModelConfig config = new ModelConfig("toy", "LlamaForCausalLM", 2, 4, 1, 1, 4, 8, 10, 16);
        Node.FeatureNode feature = new Node.FeatureNode(0, 1, 1, 2.5f, 0);
        // nodes: 0 feature; 1-4 errors (l0p0, l0p1, l1p0, l1p1); 5-6 tokens; 7 logit
        int n = 8;
        float[] dense = new float[n * n];
        dense[7 * n + 0] = 1f; // logit <- feature
        dense[7 * n + 4] = errorWeight; // logit <- error (1, 1)
        dense[0 * n + 5] = 1f; // feature <- token 0
        return new AttributionGraph(config, TokenSequence.of(1, 3), "ab", List.of(feature), List.of(feature),
                List.of(new Node.LogitNode(1, 7, "\"q\"", 1f)), EdgeMatrix.fromDense(n, dense), 10, "toy-scan");
    }

    @Test
    void aCollidingErrorNodeIsRenamedAndKeepsItsLinksOrStrictModeRefuses(@TempDir Path dir) throws IOException {
        AttributionGraph graph = collidingGraph();
        ExportOptions options = ExportOptions.of("collide", List.of("a", "b")).withThresholds(0.99, 0.99);
        assertThatThrownBy(() -> GraphJsonExporter.export(graph, options.withStrictNodeIds(true), dir))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining("'0_1_1'").hasMessageContaining("feature (layer 0, index 1, position 1)")
                .hasMessageContaining("error (layer 1, position 1)").hasMessageContaining("0_1_1_error");
        assertThat(dir.resolve("collide.json")).doesNotExist();
        assertThat(dir.resolve("graph-metadata.json")).doesNotExist();

        GraphJsonExporter.Result result = GraphJsonExporter.export(graph, options, dir);
        assertThat(result.renamed()).containsExactly(new GraphJsonExporter.RenamedNode("0_1_1", "0_1_1_error", 1, 1));
        assertThat(result.warnings()).singleElement().asString().contains("0_1_1 -> 0_1_1_error")
                .contains("layer-0 feature");
        JsonNode json = MAPPER.readTree(result.graphFile().toFile());
        assertThat(JsonSchemaSubset.validate(schema, json)).isEmpty();
        assertThat(json.get("nodes")).hasSize(5); // feature, error, 2 embeddings, logit
        Map<String, String> types = new HashMap<>();
        json.get("nodes").forEach(node -> types.put(node.get("node_id").asText(), node.get("feature_type").asText()));
        assertThat(types).containsEntry("0_1_1", GraphJsonExporter.FEATURE)
                .containsEntry("0_1_1_error", GraphJsonExporter.ERROR);
        assertThat(json.get("links")).hasSize(3);
        Set<String> links = new HashSet<>();
        json.get("links").forEach(l -> links.add(l.get("source").asText() + ">" + l.get("target").asText()));
        assertThat(links).containsExactlyInAnyOrder("0_1_1>3_7_1", "0_1_1_error>3_7_1", "E_1_0>0_1_1");
        JsonNode logit = json.get("nodes").get(4);
        assertThat(logit.get("node_id").asText()).isEqualTo("3_7_1");
        assertThat(logit.get("clerp").asText()).isEqualTo("Output \"\"q\"\" (p=1.000)");
        assertThat(logit.get("is_target_logit").asBoolean()).isTrue();
        assertEveryNodeKeptUnderADistinctIdWithItsLinks(graph, json);
    }

    @Test
    void nonFiniteEdgesAreLeftOutWithAWarningInsteadOfLosingTheGraph() {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
            GraphJsonExporter.Built built = GraphJsonExporter.build(collidingGraph(bad),
                    ExportOptions.of("bad", List.of("a", "b")).withThresholds(1.0, 1.0));
            assertThat(built.warnings()).as("weight %s", bad)
                    .anySatisfy(w -> assertThat(w).contains("1 edge has a non-finite weight"));
            assertThat(built.json().get("nodes")).isNotEmpty(); // written: embeddings and logits at least
            for (JsonNode link : built.json().get("links")) {
                assertThat(Double.isFinite(link.get("weight").asDouble())).isTrue();
            }
        }
    }

    /**
     * The oracle for ids: every emitted node has a distinct id, an error id is its reference id or that id plus
     * {@code _error} only where a layer-0 feature in the file has the reference id, and every link names existing
     * nodes and carries exactly the adjacency entry of the nodes it names.
     */
    private static void assertEveryNodeKeptUnderADistinctIdWithItsLinks(AttributionGraph graph, JsonNode json) {
        Map<String, Integer> byKindAndId = new HashMap<>();
        List<Node> nodes = graph.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            byKindAndId.put(kind(nodes.get(i)) + "|" + GraphJsonExporter.nodeId(graph, nodes.get(i)), i);
        }
        Map<String, Integer> index = new HashMap<>();
        Set<String> featureIds = new HashSet<>();
        for (JsonNode node : json.get("nodes")) {
            String id = node.get("node_id").asText();
            String type = node.get("feature_type").asText();
            Integer i = byKindAndId.get(type + "|" + referenceId(id));
            assertThat(i).as("node %s maps to a graph node", id).isNotNull();
            assertThat(index.put(id, i)).as("duplicate id %s", id).isNull();
            if (type.equals(GraphJsonExporter.FEATURE)) {
                featureIds.add(id);
            }
        }
        for (JsonNode node : json.get("nodes")) {
            String id = node.get("node_id").asText();
            if (id.endsWith(GraphJsonExporter.RENAMED_ERROR_SUFFIX)) {
                assertThat(featureIds).as("renamed only on a collision: %s", id).contains(referenceId(id));
            } else if (node.get("feature_type").asText().equals(GraphJsonExporter.ERROR)) {
                assertThat(featureIds).as("a colliding error must be renamed: %s", id).doesNotContain(id);
            }
        }
        EdgeMatrix a = graph.adjacency();
        for (JsonNode link : json.get("links")) {
            Integer s = index.get(link.get("source").asText());
            Integer t = index.get(link.get("target").asText());
            assertThat(s).as("link source %s", link.get("source")).isNotNull();
            assertThat(t).as("link target %s", link.get("target")).isNotNull();
            assertThat((float) link.get("weight").asDouble()).isEqualTo(a.get(t, s));
        }
    }

    private static String referenceId(String writtenId) {
        return writtenId.endsWith(GraphJsonExporter.RENAMED_ERROR_SUFFIX)
                ? writtenId.substring(0, writtenId.length() - GraphJsonExporter.RENAMED_ERROR_SUFFIX.length())
                : writtenId;
    }

    private static String kind(Node node) {
        return node instanceof Node.FeatureNode ? GraphJsonExporter.FEATURE : node instanceof Node.ErrorNode
                ? GraphJsonExporter.ERROR : node instanceof Node.TokenNode ? GraphJsonExporter.EMBEDDING
                : GraphJsonExporter.LOGIT;
    }

    private static long cantor(long l, long f) {
        return (l + f) * (l + f + 1) / 2 + f;
    }

    private static long[] unpair(long z) {
        long w = (long) Math.floor((Math.sqrt(8.0 * z + 1) - 1) / 2);
        while (w * (w + 1) / 2 > z) {
            w--;
        }
        while ((w + 1) * (w + 2) / 2 <= z) {
            w++;
        }
        long f = z - w * (w + 1) / 2;
        return new long[] {w - f, f};
    }
}

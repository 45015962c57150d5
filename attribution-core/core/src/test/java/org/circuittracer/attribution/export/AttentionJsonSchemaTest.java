package org.circuittracer.attribution.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.attention.GraphHeadLoadings;
import org.circuittracer.attribution.attention.HeadLoadingPass;
import org.circuittracer.attribution.attention.QkLinks;
import org.circuittracer.attribution.attention.QkPass;
import org.circuittracer.attribution.exact.ExactAttributor;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Graph JSON with head loadings and QK terms (docs/attention.md) still validates against Neuronpedia's graph schema,
 * and every kept link carries its loadings.
 */
class AttentionJsonSchemaTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama-plt-relu", "llama-clt-relu"})
    void graphsWithHeadLoadingsAndQkTermsValidate(String name) throws IOException {
        JsonNode schema;
        try (InputStream in = getClass().getResourceAsStream("/graph-format/neuronpedia-graph-schema.json")) {
            schema = new ObjectMapper().readTree(in);
        }
        try (TransformerModel model = TinyFixtures.openModel("llama");
             SparseDictionary dictionary = TinyFixtures.openDictionary(name)) {
            AttributionGraph graph = new ExactAttributor().attribute(AttributionRequest.withDefaults(model, dictionary,
                    TinyFixtures.prompt("llama", 0)), AttributionListener.NONE);
            HeadLoadingPass pass = new HeadLoadingPass(model, dictionary);
            GraphHeadLoadings[] computed = new GraphHeadLoadings[1];
            ExportOptions options = ExportOptions.of("g", ExportOptions.decodeEach(model.tokenizer(), graph.tokens()))
                    .withHeadLoadings(new HeadLoadingExport(2, (t, s) -> {
                        computed[0] = pass.compute(graph, t, s, null);
                        return computed[0];
                    }));
            ObjectNode json = GraphJsonExporter.build(graph, options).json();
            List<QkLinks.Choice> choices = QkLinks.choose(graph, computed[0], 3);
            assertThat(choices).isNotEmpty();
            int[] nodes = Arrays.stream(computed[0].sources()).distinct().sorted().toArray();
            List<QkPass.GraphQk> results = new QkPass(model, dictionary).compute(graph, nodes,
                    choices.stream().map(QkLinks.Choice::query).toList());
            assertThat(QkJson.annotate(json, graph, choices, results, 4)).isEqualTo(choices.size());

            assertThat(JsonSchemaSubset.validate(schema, json)).isEmpty();
            assertThat(json.get("metadata").get("head_loadings").get("top_k").asInt()).isEqualTo(2);
            int layers = model.config().layers();
            for (JsonNode link : json.get("links")) {
                assertThat(link.get("head_bypass")).as(link.toString()).hasSize(layers);
                assertThat(link.get("head_loadings").isArray()).isTrue();
            }
            assertThat(json.get("metadata").get("qk").get("links").asInt()).isEqualTo(choices.size());
            // the explained links' keys are their sources' positions
            for (QkLinks.Choice choice : choices) {
                Node source = graph.nodes().get(choice.source());
                assertThat(choice.query().key()).isLessThan(choice.query().query());
                assertThat(source).isNotInstanceOf(Node.LogitNode.class);
            }
        }
    }
}

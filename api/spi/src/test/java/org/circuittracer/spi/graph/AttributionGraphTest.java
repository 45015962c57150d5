package org.circuittracer.spi.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;
import org.junit.jupiter.api.Test;

class AttributionGraphTest {

    private static final ModelConfig MODEL = new ModelConfig("tiny", "LlamaForCausalLM", 2, 8, 2, 1, 4, 16, 20, 64);

    @Test
    void nodesFollowTheReferenceOrder() {
        var f0 = new Node.FeatureNode(0, 1, 3, 0.5f, 0);
        var f1 = new Node.FeatureNode(1, 2, 7, 1.5f, 2);
        var logit = new Node.LogitNode(2, 11, "cat", 0.9f);
        int n = 2 + 2 * 3 + 3 + 1;
        AttributionGraph graph = new AttributionGraph(MODEL, TokenSequence.of(0, 4, 5), "<s> a b",
                List.of(f0, new Node.FeatureNode(1, 1, 2, 0.1f, 1), f1), List.of(f0, f1), List.of(logit),
                EdgeMatrix.fromDense(n, new float[n * n]), 20, "tiny-scan");

        List<Node> nodes = graph.nodes();
        assertThat(nodes).hasSize(graph.size()).startsWith(f0, f1);
        assertThat(nodes.get(graph.errorIndex(1, 2))).isEqualTo(new Node.ErrorNode(1, 2));
        assertThat(nodes.get(graph.tokenIndex(1))).isEqualTo(new Node.TokenNode(1, 4));
        assertThat(nodes.get(graph.logitIndex(0))).isEqualTo(logit);
    }

    @Test
    void adjacencySizeMustMatchTheNodes() {
        assertThatThrownBy(() -> new AttributionGraph(MODEL, TokenSequence.of(0), "", List.of(), List.of(), List.of(),
                EdgeMatrix.fromDense(2, new float[4]), 20, ""))
                .hasMessageContaining("adjacency is 2² but the graph has 3 nodes");
    }
}

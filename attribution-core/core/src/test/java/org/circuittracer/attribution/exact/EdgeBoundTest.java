package org.circuittracer.attribution.exact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.EdgeMatrix;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.Test;

class EdgeBoundTest {

    /** Every computed row, per-layer and cross-layer, stays within its causal-cone bound, and the bound is tight-ish. */
    @Test
    void everyRowFitsItsBound() {
        for (String set : List.of("llama-plt-relu", "llama-clt-relu")) {
            try (TransformerModel model = TinyFixtures.openModel("llama");
                 SparseDictionary dictionary = TinyFixtures.openDictionary(set)) {
                AttributionGraph graph = new ExactAttributor().attribute(new AttributionRequest(model, dictionary,
                        TinyFixtures.prompt("llama", 2), AttributionTargets.Salient.defaults(), 0, 32, 4),
                        AttributionListener.NONE);
                List<Node.FeatureNode> active = graph.activeFeatures();
                int[] layers = active.stream().mapToInt(Node.FeatureNode::layer).toArray();
                int[] positions = active.stream().mapToInt(Node.FeatureNode::position).toArray();
                long[] bounds = EdgeBound.rowBounds(layers, positions, model.config().layers(),
                        graph.tokens().length());
                EdgeMatrix a = graph.adjacency();
                long stored = 0;
                long bounded = 0;
                for (int i = 0; i < active.size(); i++) {
                    assertThat((long) a.rowSize(i)).as("%s row %d", set, i).isLessThanOrEqualTo(bounds[i]);
                    stored += a.rowSize(i);
                    bounded += bounds[i];
                }
                assertThat((double) stored / bounded).as(set).isGreaterThan(0.5);
            }
        }
    }

    @Test
    void aGraphThatCouldOutgrowOneMatrixIsRefusedWithAFittingCap() {
        long[] bounds = new long[100_000];
        java.util.Arrays.fill(bounds, 50_000);
        assertThatThrownBy(() -> EdgeBound.check(bounds, 100_000, 10, 100_000))
                .isInstanceOf(CircuitTracerException.class)
                .satisfies(e -> assertThat(((CircuitTracerException) e).errorCode())
                        .isEqualTo(StandardErrorCode.OUT_OF_RESOURCES))
                .hasMessageContaining("--max-feature-nodes to at most 42929");
        EdgeBound.check(bounds, 42_929, 10, 100_000); // fits
    }
}

package org.circuittracer.attribution.attention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.exact.ExactAttributor;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.EdgeMatrix;
import org.circuittracer.spi.model.HeadLoadings;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Head loadings of real graphs' edges on every fixture pair (per-layer transcoders on each architecture, a skip
 * transcoder, a cross-layer transcoder): each edge's total is the weight the attribution graph holds, and in every
 * layer the heads plus the bypass give the edge back.
 */
class HeadLoadingPassTest {

    static Stream<Arguments> pairs() {
        return TinyFixtures.PAIRS.stream().map(p -> Arguments.of(p.model(), p.dictionary()));
    }

    @ParameterizedTest(name = "{0} + {1}")
    @MethodSource("pairs")
    void everyEdgeSplitsExactlyOverHeadsAndBypass(String architecture, String dictionaryName) {
        try (TransformerModel model = TinyFixtures.openModel(architecture);
             SparseDictionary dictionary = TinyFixtures.openDictionary(dictionaryName)) {
            AttributionGraph graph = new ExactAttributor().attribute(new AttributionRequest(model, dictionary,
                    TinyFixtures.prompt(architecture, 0), AttributionTargets.Salient.defaults(), 24, 16, 4),
                    AttributionListener.NONE);
            List<int[]> edges = new ArrayList<>();
            List<Float> weights = new ArrayList<>();
            EdgeMatrix a = graph.adjacency();
            a.forEachRow((t, columns, values, from, to) -> {
                for (int i = from; i < to; i++) {
                    if (values[i] != 0 && edges.size() < 600) {
                        edges.add(new int[] {t, columns[i]});
                        weights.add(values[i]);
                    }
                }
            });
            assertThat(edges).isNotEmpty();
            int[] targets = edges.stream().mapToInt(e -> e[0]).toArray();
            int[] sources = edges.stream().mapToInt(e -> e[1]).toArray();
            GraphHeadLoadings split = new HeadLoadingPass(model, dictionary).compute(graph, targets, sources, null);
            HeadLoadings loadings = split.loadings();
            assertThat(loadings.layers()).isEqualTo(model.config().layers());
            assertThat(loadings.heads()).isEqualTo(model.config().heads());
            double largest = 0;
            int throughHeads = 0;
            // float32 sums of larger terms: an edge far below the graph's largest is checked against 1 % of that
            double floor = 1e-2 * weights.stream().mapToDouble(w -> Math.abs(w)).max().orElse(1);
            for (int e = 0; e < edges.size(); e++) {
                float weight = weights.get(e);
                assertThat((double) loadings.total(e)).as("edge %d (%d <- %d)", e, targets[e], sources[e])
                        .isCloseTo(weight, org.assertj.core.data.Offset.offset(2e-5 * Math.max(1, Math.abs(weight))));
                for (int m = 0; m < loadings.layers(); m++) {
                    double sum = loadings.bypass(e, m);
                    double magnitude = Math.abs(sum);
                    for (int h = 0; h < loadings.heads(); h++) {
                        sum += loadings.loading(e, m, h);
                        magnitude += Math.abs(loadings.loading(e, m, h));
                        largest = Math.max(largest, Math.abs(loadings.loading(e, m, h)));
                    }
                    if (magnitude > Math.abs(loadings.bypass(e, m))) {
                        throughHeads++;
                    }
                    assertThat(Math.abs(sum - weight)).as("edge %d, layer %d", e, m)
                            .isLessThanOrEqualTo(1e-5 * Math.max(floor, Math.max(magnitude, Math.abs(weight))));
                }
            }
            assertThat(largest).as("some edge passes some head").isPositive();
            assertThat(throughHeads).isPositive();
            // the lookup finds every edge, and the top heads are ordered by magnitude within a layer
            var lookup = split.lookup();
            assertThat(lookup.apply(targets[0], sources[0])).isZero();
            List<GraphHeadLoadings.HeadShare> top = split.topHeads(0, 2);
            for (int i = 1; i < top.size(); i++) {
                if (top.get(i).layer() == top.get(i - 1).layer()) {
                    assertThat(Math.abs(top.get(i).loading())).isLessThanOrEqualTo(Math.abs(top.get(i - 1).loading()));
                }
            }
        }
    }

    @Test
    void edgesIntoTokensOrOutsideTheGraphAreRefused() {
        try (TransformerModel model = TinyFixtures.openModel("llama");
             SparseDictionary dictionary = TinyFixtures.openDictionary("llama-plt-relu")) {
            AttributionGraph graph = new ExactAttributor().attribute(new AttributionRequest(model, dictionary,
                    TinyFixtures.prompt("llama", 0), AttributionTargets.Salient.defaults(), 8, 16, 4),
                    AttributionListener.NONE);
            HeadLoadingPass pass = new HeadLoadingPass(model, dictionary);
            int token = graph.tokenIndex(1);
            int logit = graph.logitIndex(0);
            assertThatThrownBy(() -> pass.compute(graph, new int[] {token}, new int[] {token}, null))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("only feature and logit nodes receive edges");
            assertThatThrownBy(() -> pass.compute(graph, new int[] {logit}, new int[] {graph.size()}, null))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining(String.valueOf(graph.size()));
        }
    }
}

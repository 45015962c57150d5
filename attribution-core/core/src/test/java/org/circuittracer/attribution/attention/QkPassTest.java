package org.circuittracer.attribution.attention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.attribution.exact.ExactAttributor;
import org.circuittracer.attribution.prune.GraphPruning;
import org.circuittracer.attribution.prune.PruneResult;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.model.QkAttribution;
import org.circuittracer.spi.model.QkQuery;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * QK attribution over the kept nodes of real graphs, on every fixture pair: the terms add up to the score, and the
 * top lists name graph nodes in order of magnitude.
 */
class QkPassTest {

    static Stream<Arguments> pairs() {
        return TinyFixtures.PAIRS.stream().map(p -> Arguments.of(p.model(), p.dictionary()));
    }

    @ParameterizedTest(name = "{0} + {1}")
    @MethodSource("pairs")
    void theKeptNodesSplitTheScore(String architecture, String dictionaryName) {
        try (TransformerModel model = TinyFixtures.openModel(architecture);
             SparseDictionary dictionary = TinyFixtures.openDictionary(dictionaryName)) {
            AttributionGraph graph = new ExactAttributor().attribute(new AttributionRequest(model, dictionary,
                    TinyFixtures.prompt(architecture, 0), AttributionTargets.Salient.defaults(), 24, 16, 4),
                    AttributionListener.NONE);
            PruneResult pruned = GraphPruning.prune(graph, GraphPruning.DEFAULT_NODE_THRESHOLD,
                    GraphPruning.DEFAULT_EDGE_THRESHOLD);
            int[] kept = IntStream.range(0, graph.logitIndex(0)).filter(pruned::keepsNode).toArray();
            assertThat(kept).isNotEmpty();
            int q = graph.tokens().length() - 1;
            int layers = model.config().layers();
            List<QkQuery> queries = List.of(new QkQuery(0, 0, q, q - 1), new QkQuery(layers - 1, 1, q, 1));
            List<QkPass.GraphQk> results = new QkPass(model, dictionary).compute(graph, kept, queries);
            assertThat(results).hasSize(2);
            for (QkPass.GraphQk result : results) {
                QkAttribution split = result.split();
                assertThat(result.nodes()).containsExactly(kept);
                double sum = split.constant();
                double magnitude = Math.abs(split.constant());
                for (int a = 0; a < split.sources(); a++) {
                    sum += split.queryMarginal()[a] + split.keyMarginal()[a];
                    magnitude += Math.abs(split.queryMarginal()[a]) + Math.abs(split.keyMarginal()[a]);
                    for (int b = 0; b < split.sources(); b++) {
                        sum += split.pair(a, b);
                        magnitude += Math.abs(split.pair(a, b));
                    }
                }
                assertThat(Math.abs(sum - split.score())).as(split.toString())
                        .isLessThanOrEqualTo(1e-5 * Math.max(1, magnitude));
                List<QkPass.GraphQk.Pair> top = result.topPairs(5);
                assertThat(top).isNotEmpty();
                for (int i = 1; i < top.size(); i++) {
                    assertThat(Math.abs(top.get(i).attribution())).isLessThanOrEqualTo(
                            Math.abs(top.get(i - 1).attribution()));
                }
                assertThat(top).allSatisfy(p -> assertThat(kept).contains(p.queryNode(), p.keyNode()));
                assertThat(result.topQueryMarginals(3)).hasSizeLessThanOrEqualTo(3);
            }
            assertThatThrownBy(() -> new QkPass(model, dictionary).compute(graph, new int[] {graph.logitIndex(0)},
                    queries)).isInstanceOfSatisfying(CircuitTracerException.class,
                    e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("logit");
        }
    }
}

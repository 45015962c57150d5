package org.circuittracer.attribution;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.circuittracer.attribution.exact.ExactAttributorProvider;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.Attributor;
import org.circuittracer.spi.attribution.AttributorOptions;
import org.circuittracer.spi.attribution.AttributorProvider;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.graph.EdgeMatrix;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.testkit.AbstractAttributorConformanceTest;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/** The attributor kit fails an attributor whose edges are 0.1 % off, on the oracle rules. */
class KitCatchesWrongEdgesTest {

    /** {@code exact}, with every edge scaled by 1.001. */
    public static final class SlightlyWrongProvider implements AttributorProvider {
        @Override
        public String name() {
            return "slightly-wrong";
        }

        @Override
        public Attributor create(AttributorOptions options) {
            Attributor exact = new ExactAttributorProvider().create(AttributorOptions.none(ExactAttributorProvider.NAME));
            return new Attributor() {
                @Override
                public Set<BackendCapability> requiredCapabilities() {
                    return exact.requiredCapabilities();
                }

                @Override
                public AttributionGraph attribute(AttributionRequest request, AttributionListener listener) {
                    AttributionGraph g = exact.attribute(request, listener);
                    EdgeMatrix a = g.adjacency();
                    float[] weights = a.weights();
                    for (int i = 0; i < weights.length; i++) {
                        weights[i] *= 1.001f;
                    }
                    return new AttributionGraph(g.model(), g.tokens(), g.inputString(), g.activeFeatures(), g.selected(),
                            g.logits(), new EdgeMatrix(a.size(), a.rowStart(), a.columns(), weights), g.vocabularySize(),
                            g.scan());
                }
            };
        }
    }

    static class SlightlyWrong extends AbstractAttributorConformanceTest {
        @Override
        protected AttributorProvider provider() {
            return new SlightlyWrongProvider();
        }

        @Override
        protected List<Setup> setups() {
            return List.of(new Setup("llama-clt", TinyFixtures.modelDirectory("llama"),
                    TinyFixtures.dictionaryDirectory("llama-clt-relu"), TinyFixtures.prompt("llama", 0)));
        }

        @Override
        protected TransformerModel openModel(Path directory) {
            return TinyFixtures.openModel(directory);
        }

        @Override
        protected SparseDictionary openDictionary(Path directory) {
            return TinyFixtures.openDictionary(directory);
        }
    }

    @Test
    void theOracleRulesFail() {
        Events events = EngineTestKit.engine("junit-jupiter").selectors(selectClass(SlightlyWrong.class)).execute()
                .testEvents();
        events.failed().assertThatEvents().extracting(e -> e.getTestDescriptor().getParent().orElseThrow()
                        .getDisplayName())
                .contains("edgesEqualThePerturbationEffectsInTheFrozenReplacementModel(String)",
                        "customTargetRowsEqualTheirPerturbationEffects(String)",
                        "rowsSumToTheEffectOfRemovingEverySource(String)");
        events.succeeded().assertThatEvents().extracting(e -> e.getTestDescriptor().getParent().orElseThrow()
                .getDisplayName()).contains("nodesFollowTheReferenceOrderAndStructuralZerosHold(String)");
    }
}

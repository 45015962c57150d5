package org.circuittracer.attribution.targets;

import org.circuittracer.attribution.ForwardingModel;
import org.circuittracer.spi.model.BackendCapability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import java.util.List;
import org.circuittracer.attribution.TinyFixtures;
import org.circuittracer.backend.djl.DjlBackendProvider;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.model.ForwardResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LogitTargetsTest {

    @Test
    void salientTakesTheMostProbableUntilTheGoalOrTheCap() {
        double[] p = {0.05, 0.5, 0.3, 0.1, 0.05};
        assertThat(LogitTargets.salient(p, 10, 0.85)).containsExactly(1, 2, 3);
        assertThat(LogitTargets.salient(p, 2, 0.85)).containsExactly(1, 2);
        assertThat(LogitTargets.salient(p, 10, 0.5)).containsExactly(1);
        assertThat(LogitTargets.salient(p, 10, 1.0)).containsExactly(1, 2, 3, 0, 4);
        // ties go to the lower id
        assertThat(LogitTargets.salient(new double[] {0.25, 0.25, 0.25, 0.25}, 3, 0.6)).containsExactly(0, 1, 2);
    }

    @Test
    void softmaxIsAProbabilityDistribution() {
        double[] p = LogitTargets.softmax(new float[] {1000f, 999f, -5f});
        assertThat(p[0] + p[1] + p[2]).isCloseTo(1.0, within(1e-12));
        assertThat(p[0] / p[1]).isCloseTo(Math.E, within(1e-9));
    }

    /** Logit directions are demeaned unembedding vectors: they attribute the demeaned pre-soft-cap logit. */
    @ParameterizedTest
    @ValueSource(strings = {"llama", "gemma2", "gpt2", "qwen3"})
    void tokenTargetsAttributeTheDemeanedPreSoftcapLogitWithProbabilityWeights(String architecture) {
        try (TransformerModel model = TinyFixtures.openModel(architecture); NDManager manager = NDManager.newBaseManager()) {
            TokenSequence tokens = TinyFixtures.prompt(architecture, 1);
            ForwardResult result = model.forward(manager, tokens,
                    List.of(new Hook.Capture(HookSite.global(SiteKind.UNEMBED_IN))));
            int last = tokens.length() - 1;
            float[] logits = result.logits().get(last).toFloatArray();
            float[] z = result.capturedAt(HookSite.global(SiteKind.UNEMBED_IN)).get(last).toFloatArray();
            List<LogitTarget> targets = LogitTargets.build(AttributionTargets.Salient.defaults(), logits, model, manager);
            double[] probabilities = LogitTargets.softmax(logits);
            assertThat(targets).isNotEmpty();
            // the pre-soft-cap logits z·U (the soft-cap, where present, is 30·tanh(x/30))
            int vocabulary = model.config().vocabularySize();
            int[] all = java.util.stream.IntStream.range(0, vocabulary).toArray();
            float[] u = model.unembeddingVectors(manager, all).toFloatArray();
            int d = z.length;
            double[] pre = new double[vocabulary];
            double mean = 0;
            for (int v = 0; v < vocabulary; v++) {
                for (int j = 0; j < d; j++) {
                    pre[v] += (double) z[j] * u[v * d + j];
                }
                double capped = architecture.equals("gemma2") ? 30 * Math.tanh(pre[v] / 30) : pre[v];
                assertThat(capped).as("logit %d", v).isCloseTo(logits[v], within(1e-4 * Math.max(1, Math.abs(logits[v]))));
                mean += pre[v] / vocabulary;
            }
            for (LogitTarget target : targets) {
                double attributed = 0;
                float[] g = target.direction();
                for (int j = 0; j < d; j++) {
                    attributed += (double) g[j] * z[j];
                }
                assertThat(attributed).isCloseTo(pre[target.vocabIndex()] - mean, within(1e-4));
                assertThat((double) target.weight()).isCloseTo(probabilities[target.vocabIndex()], within(1e-7));
                assertThat(target.label()).isEqualTo(model.tokenizer().tokenText(target.vocabIndex()));
            }
        }
    }

    @Test
    void explicitIdsKeepTheirOrderAndDuplicatesAndOutOfRangeIdsAreNamed() {
        try (TransformerModel model = TinyFixtures.openModel("llama"); NDManager manager = NDManager.newBaseManager()) {
            float[] logits = new float[160];
            List<LogitTarget> targets = LogitTargets.build(new AttributionTargets.TokenIds(List.of(7, 3, 7)), logits,
                    model, manager);
            assertThat(targets).extracting(LogitTarget::vocabIndex).containsExactly(7, 3, 7);
            assertThat(targets).allSatisfy(t -> assertThat(t.weight()).isCloseTo(1f / 160, within(1e-7f)));
            assertThatThrownBy(() -> LogitTargets.build(new AttributionTargets.TokenIds(List.of(3, 160, 170)), logits,
                    model, manager)).isInstanceOfSatisfying(CircuitTracerException.class,
                    e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("160, 170").hasMessageContaining("[0, 160)");
        }
    }

    @Test
    void tokenStringsMustBeExactlyOneToken() {
        try (TransformerModel model = TinyFixtures.openModel("llama"); NDManager manager = NDManager.newBaseManager()) {
            float[] logits = new float[160];
            List<LogitTarget> targets = LogitTargets.build(new AttributionTargets.TokenStrings(List.of("of", "the")),
                    logits, model, manager);
            assertThat(targets).extracting(LogitTarget::vocabIndex).containsExactly(5, 3);
            assertThat(targets).extracting(LogitTarget::label).containsExactly("of", "the");
            assertThatThrownBy(() -> LogitTargets.build(new AttributionTargets.TokenStrings(List.of("the of")), logits,
                    model, manager)).isInstanceOfSatisfying(CircuitTracerException.class,
                    e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("'the of' encodes to 2 tokens");
            assertThatThrownBy(() -> LogitTargets.build(new AttributionTargets.TokenStrings(List.of("")), logits,
                    model, manager)).hasMessageContaining("encodes to no token");
        }
    }

    @Test
    void customTargetsAreVerbatimWithVirtualIndicesAndNeedNoUnembedding() {
        // the djl model with its UNEMBEDDING capability hidden
        try (TransformerModel model = new ForwardingModel(TinyFixtures.openModel("llama")) {
                @Override
                public java.util.Set<BackendCapability> capabilities() {
                    var capabilities = java.util.EnumSet.copyOf(super.capabilities());
                    capabilities.remove(BackendCapability.UNEMBEDDING);
                    return capabilities;
                }
            };
             NDManager manager = NDManager.newBaseManager()) {
            float[] direction = new float[64];
            direction[3] = 2.5f;
            List<LogitTarget> targets = LogitTargets.build(new AttributionTargets.Custom(List.of(
                    new AttributionTargets.CustomTarget("up", 3, direction),
                    new AttributionTargets.CustomTarget("down", 0.25f, direction))), new float[160], model, manager);
            assertThat(targets).extracting(LogitTarget::vocabIndex).containsExactly(160, 161);
            assertThat(targets).extracting(LogitTarget::weight).containsExactly(3f, 0.25f);
            assertThat(targets.get(0).direction()).isEqualTo(direction);
            assertThatThrownBy(() -> LogitTargets.build(new AttributionTargets.Custom(List.of(
                    new AttributionTargets.CustomTarget("short", 1, new float[63]))), new float[160], model, manager))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("length 63").hasMessageContaining("width is 64");
            assertThatThrownBy(() -> LogitTargets.build(AttributionTargets.Salient.defaults(), new float[160], model,
                    manager)).isInstanceOfSatisfying(CircuitTracerException.class,
                    e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MISSING_CAPABILITY))
                    .hasMessageContaining("does not support UNEMBEDDING");
        }
    }
}

package org.circuittracer.backend.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Map;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.SeedSite;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.VjpResult;
import org.circuittracer.spi.model.VjpSeeds;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code linearize} reads the weights of the frozen model from the graph once per model: later calls reuse the cached
 * arrays, give the same VJPs, and {@code close()} releases the cache.
 */
class LinearizeWeightCacheTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gemma2"})
    void repeatedLinearisationsReuseTheCachedWeightsUntilClose(String architecture) {
        OnnxTransformerModel model = (OnnxTransformerModel) TinyOnnxModels.onnx(architecture);
        try (NDManager manager = NDManager.newBaseManager()) {
            TokenSequence prompt = TinyOnnxModels.prompt(architecture, 2);
            int layers = model.config().layers();
            boolean post = model.sites().contains(HookSite.of(SiteKind.LN2_POST_SCALE, 0));
            LinearizationSpec spec = new LinearizationSpec(post ? SiteKind.LN2_NORMALIZED : SiteKind.MLP_IN,
                    post ? SiteKind.MLP_OUT : SiteKind.MLP_OUT_RAW, Map.of());
            // W_V, W_O, ln1 and ln2 gains (and Gemma's two post-norm gains) per layer, and the final gain
            int weights = layers * (post ? 6 : 4) + 1;
            VjpSeeds seeds = new VjpSeeds(List.of(new SeedSite.Unembedding(prompt.length() - 1),
                    new SeedSite.ReadSite(layers - 1, prompt.length() - 2), new SeedSite.ReadSite(0, 3)),
                    manager.randomNormal(new Shape(3, model.config().modelWidth())));
            assertThat(model.weights().extractions()).isZero();

            NDManager first = manager.newSubManager();
            LinearizedModel x = model.linearize(first, prompt, spec);
            assertThat(model.weights().extractions()).isEqualTo(weights);
            assertThat(model.weights().cached()).isEqualTo(weights);
            VjpResult p = x.vjp(manager, seeds);

            try (NDManager second = manager.newSubManager();
                 LinearizedModel y = model.linearize(second, prompt, spec)) {
                // no weight was read again, and none is held twice
                assertThat(model.weights().extractions()).isEqualTo(weights);
                assertThat(model.weights().cached()).isEqualTo(weights);
                VjpResult q = y.vjp(manager, seeds);
                assertSame(p, q);

                // closing one linearised model (and its manager) leaves the cache to the others
                x.close();
                first.close();
                assertThat(model.weights().cached()).isEqualTo(weights);
                assertSame(p, y.vjp(manager, seeds));

                // closing the model releases the cache; linearising fails as before
                model.close();
                assertThat(model.weights().cached()).isZero();
                assertThatThrownBy(() -> model.linearize(manager, prompt, spec))
                        .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
                assertThatThrownBy(() -> model.weights().shared(manager, "ln_final.w", false))
                        .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
                // a linearised model made before keeps its views of the weights (they share the storage)
                assertSame(p, y.vjp(manager, seeds));
            }
        } finally {
            model.close();
        }
    }

    private static void assertSame(VjpResult expected, VjpResult actual) {
        assertThat(actual.writeSiteGradients().keySet()).isEqualTo(expected.writeSiteGradients().keySet());
        assertThat(actual.embeddingGradient().toFloatArray())
                .containsExactly(expected.embeddingGradient().toFloatArray());
        for (int layer : expected.writeSiteGradients().keySet()) {
            assertThat(actual.writeSiteGradients().get(layer).toFloatArray())
                    .containsExactly(expected.writeSiteGradients().get(layer).toFloatArray());
        }
    }
}

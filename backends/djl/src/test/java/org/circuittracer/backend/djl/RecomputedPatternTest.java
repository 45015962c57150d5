package org.circuittracer.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.SeedSite;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.model.VjpResult;
import org.circuittracer.spi.model.VjpSeeds;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Long prompts keep queries and keys instead of {@code [H, T, T]} patterns and recompute pattern rows in blocks
 * (issue 16). Forced on short prompts with a small pattern budget, the linearised model must give the recorded-pattern
 * model's VJPs and clean patterns, for every architecture (rotary, soft-caps, sliding windows, learned positions,
 * grouped heads, query/key norms).
 */
class RecomputedPatternTest {

    private static final LinearizationSpec SPEC = new LinearizationSpec(SiteKind.MLP_IN, SiteKind.MLP_OUT, Map.of());

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama", "gemma2", "qwen3"})
    void recomputedPatternsGiveTheRecordedPatternsVjps(String architecture) {
        try (TransformerModel model = TinyModels.open(architecture);
             NDManager manager = NDManager.newBaseManager()) {
            TokenSequence prompt = TinyModels.prompt(architecture, 2);
            int t = prompt.length();
            int heads = model.config().heads();
            DjlTransformerModel djl = (DjlTransformerModel) model;
            try (LinearizedModel recorded = djl.linearize(manager, prompt, SPEC, Long.MAX_VALUE);
                 LinearizedModel whole = djl.linearize(manager, prompt, SPEC, (long) heads * t * t - 1);
                 LinearizedModel rows = djl.linearize(manager, prompt, SPEC, (long) heads * 3 * t);
                 LinearizedModel single = djl.linearize(manager, prompt, SPEC, 0)) {
                for (int layer = 0; layer < model.config().layers(); layer++) {
                    HookSite pattern = HookSite.of(SiteKind.ATTN_PATTERN, layer);
                    assertThat(rows.clean()).containsKey(pattern).containsKey(HookSite.of(SiteKind.RESID_PRE, layer));
                    assertClose(rows.clean().get(pattern), recorded.clean().get(pattern), architecture + " " + pattern);
                }
                Random random = new Random(architecture.hashCode());
                for (int batch = 0; batch < 3; batch++) {
                    VjpSeeds seeds = seeds(manager, random, model.config().layers(), t,
                            model.config().modelWidth(), 1 + random.nextInt(6));
                    VjpResult expected = recorded.vjp(manager, seeds);
                    for (LinearizedModel linear : new LinearizedModel[] {whole, rows, single}) {
                        assertSame(linear.vjp(manager, seeds), expected, architecture + " " + seeds.sites());
                    }
                }
            }
        }
    }

    /**
     * A 640-token prompt on the tiny llama with the pattern recomputed in 64-row blocks: the VJP of a batch spread
     * over the prompt equals the recorded-pattern VJP (a few seconds; the 8,192-token run is a benchmark).
     */
    @Test
    void aLongPromptRecomputesItsPatternInBlocks() {
        try (TransformerModel model = TinyModels.open("llama");
             NDManager manager = NDManager.newBaseManager()) {
            int t = 640;
            Random random = new Random(640);
            int[] ids = new int[t];
            for (int i = 1; i < t; i++) {
                ids[i] = 2 + random.nextInt(model.config().vocabularySize() - 2);
            }
            TokenSequence prompt = new TokenSequence(ids);
            DjlTransformerModel djl = (DjlTransformerModel) model;
            long budget = (long) model.config().heads() * 64 * t;
            assertThat(DjlLinearization.keepsPatterns(djl.decoder(), t, budget)).isFalse();
            try (LinearizedModel recorded = djl.linearize(manager, prompt, SPEC, Long.MAX_VALUE);
                 LinearizedModel blocked = djl.linearize(manager, prompt, SPEC, budget)) {
                assertThat(blocked.clean()).doesNotContainValue(null);
                List<SeedSite> sites = List.of(new SeedSite.ReadSite(0, 17), new SeedSite.ReadSite(1, 300),
                        new SeedSite.ReadSite(1, 301), new SeedSite.ReadSite(2, 639), new SeedSite.ReadSite(3, 5),
                        new SeedSite.Unembedding(t - 1));
                VjpSeeds seeds = new VjpSeeds(sites,
                        manager.randomNormal(new Shape(sites.size(), model.config().modelWidth())));
                assertSame(blocked.vjp(manager, seeds), recorded.vjp(manager, seeds), "640 tokens");
            }
        }
    }

    private static VjpSeeds seeds(NDManager manager, Random random, int layers, int t, int d, int lanes) {
        List<SeedSite> sites = new ArrayList<>(lanes);
        for (int i = 0; i < lanes; i++) {
            int layer = random.nextInt(layers + 1);
            int position = random.nextInt(t);
            sites.add(layer == layers ? new SeedSite.Unembedding(position) : new SeedSite.ReadSite(layer, position));
        }
        return new VjpSeeds(sites, manager.randomNormal(new Shape(lanes, d)));
    }

    private static void assertSame(VjpResult actual, VjpResult expected, String what) {
        assertThat(actual.writeSiteGradients().keySet()).as(what)
                .containsExactlyInAnyOrderElementsOf(expected.writeSiteGradients().keySet());
        for (int layer : expected.writeSiteGradients().keySet()) {
            assertClose(actual.writeSiteGradient(layer).orElseThrow(), expected.writeSiteGradient(layer).orElseThrow(),
                    what + " layer " + layer);
        }
        assertClose(actual.embeddingGradient(), expected.embeddingGradient(), what + " embeddings");
    }

    private static void assertClose(NDArray actual, NDArray expected, String what) {
        assertThat(actual.getShape()).as(what).isEqualTo(expected.getShape());
        float[] a = actual.toFloatArray();
        float[] e = expected.toFloatArray();
        double scale = 1e-6;
        for (float v : e) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < a.length; i++) {
            assertThat((double) Math.abs(a[i] - e[i])).as("%s: element %d (%s vs %s)", what, i, a[i], e[i])
                    .isLessThanOrEqualTo(1e-5 * scale);
        }
    }
}

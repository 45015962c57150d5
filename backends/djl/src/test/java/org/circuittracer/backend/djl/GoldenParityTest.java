package org.circuittracer.backend.djl;

import static org.circuittracer.backend.djl.TinyModels.assertClose;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.model.ForwardResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Logits and every golden activation of the four tiny models (Hugging Face transformers, float32) agree with ours,
 * read through our hook sites, within the fixtures' tolerances: {@code |ours − ref| ≤ 1e-4 + 1e-4·|ref|}, attention
 * probabilities {@code ≤ 1e-5}.
 */
class GoldenParityTest {

    private static final Map<String, TransformerModel> MODELS = new ConcurrentHashMap<>();
    private static final Map<String, Double> MAX_ERRORS = new TreeMap<>();

    /** Golden activation name (after {@code layers.L.}) to our site; attn_out_raw is derived, see below. */
    private static final Map<String, SiteKind> LAYER_SITES = Map.of(
            "resid_pre", SiteKind.RESID_PRE, "attn_probs", SiteKind.ATTN_PATTERN, "attn_out", SiteKind.ATTN_OUT,
            "resid_mid", SiteKind.RESID_MID, "mlp_in", SiteKind.MLP_IN, "mlp_out", SiteKind.MLP_OUT,
            "mlp_out_raw", SiteKind.MLP_OUT_RAW, "resid_post", SiteKind.RESID_POST);

    static Stream<Arguments> cases() {
        return TinyModels.ARCHITECTURES.stream().flatMap(a -> Stream.of(0, 1, 2).map(k -> Arguments.of(a, k)));
    }

    @ParameterizedTest(name = "{0} prompt {1}")
    @MethodSource("cases")
    void matchesTheReferenceImplementation(String architecture, int k) {
        TransformerModel model = MODELS.computeIfAbsent(architecture, TinyModels::open);
        TokenSequence prompt = TinyModels.prompt(architecture, k);
        List<Hook> captures = new ArrayList<>();
        model.sites().forEach(site -> captures.add(new Hook.Capture(site)));
        try (NDManager manager = NDManager.newBaseManager(); SafetensorsFile golden = TinyModels.golden(architecture)) {
            ForwardResult result = model.forward(manager, prompt, captures);
            String p = "p" + k + ".";
            check(architecture, "logits", result.logits(), golden.readFloats(p + "logits"));
            check(architecture, "final_normed", result.capturedAt(HookSite.global(SiteKind.UNEMBED_IN)),
                    golden.readFloats(p + "final_normed"));
            for (int layer = 0; layer < model.config().layers(); layer++) {
                for (var entry : LAYER_SITES.entrySet()) {
                    String name = p + "layers." + layer + "." + entry.getKey();
                    if (golden.contains(name)) {
                        check(architecture, entry.getKey(), result.capturedAt(HookSite.of(entry.getValue(), layer)),
                                golden.readFloats(name));
                    }
                }
                String raw = p + "layers." + layer + ".attn_out_raw";
                if (golden.contains(raw)) {
                    check(architecture, "attn_out_raw", attentionOutputBeforePostNorm(result, layer, architecture),
                            golden.readFloats(raw));
                }
            }
        }
    }

    /**
     * Gemma-2's o_proj output has no site of its own; it is hook_attn_out with the post-attention norm undone:
     * {@code raw = attn_out · s / (1 + w)}, from the captured {@code ln1_post.hook_scale}.
     */
    private static NDArray attentionOutputBeforePostNorm(ForwardResult result, int layer, String architecture) {
        NDArray gain;
        try (SafetensorsFile weights = SafetensorsFile.open(TinyModels.directory(architecture)
                .resolve("model.safetensors"))) {
            float[] w = weights.readFloats("model.layers." + layer + ".post_attention_layernorm.weight");
            gain = result.logits().getManager().create(w).add(1f);
        }
        return result.capturedAt(HookSite.of(SiteKind.ATTN_OUT, layer))
                .mul(result.capturedAt(HookSite.of(SiteKind.LN1_POST_SCALE, layer))).div(gain);
    }

    private static void check(String architecture, String name, NDArray actual, float[] expected) {
        boolean probabilities = name.equals("attn_probs");
        double error = assertClose(actual, expected, probabilities ? 1e-5 : 1e-4, probabilities ? 0 : 1e-4,
                architecture + " " + name);
        synchronized (MAX_ERRORS) {
            MAX_ERRORS.merge(architecture + " " + name, error, Math::max);
        }
    }

    @AfterAll
    static void closeModelsAndReport() {
        MODELS.values().forEach(TransformerModel::close);
        MAX_ERRORS.forEach((what, error) -> System.out.printf("max |ours - reference| %-22s %.3g%n", what, error));
    }
}

package org.circuittracer.backend.onnx;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transformer.decoder.Attention;
import org.circuittracer.transformer.decoder.AttentionWeights;
import org.circuittracer.transformer.decoder.BlockQueryKey;
import org.circuittracer.transformer.decoder.Linear;
import org.circuittracer.transformer.decoder.NormWeights;
import org.circuittracer.transformer.linear.FrozenAttention;
import org.circuittracer.transformer.linear.FrozenLayer;
import org.circuittracer.transformer.linear.FrozenLinearizedModel;
import org.circuittracer.transformer.linear.FrozenNorm;
import org.circuittracer.transformer.linear.FrozenQueryKey;
import org.circuittracer.transformer.linear.FrozenTransformer;
import org.circuittracer.transformer.linear.Once;

/**
 * Linearises an ONNX model around one prompt: the clean forward's captured patterns, scales and sites (owned by
 * {@code state}) and the weights the site map locates make the {@link FrozenTransformer} of a
 * {@link FrozenLinearizedModel}, whose adjoint sweep runs on DJL arrays of the caller's engine.
 */
final class OnnxLinearization {

    private OnnxLinearization() {
    }

    /** The sites the clean pass records (patterns always kept: ONNX patterns are captured, not recomputed). */
    static List<HookSite> recordedSites(List<HookSite> sites, LinearizationSpec spec) {
        return FrozenLinearizedModel.recordedSites(sites, spec, true);
    }

    /**
     * Builds the frozen model from the clean captures (owned by {@code state}) and the located weights: views, owned
     * by {@code state}, of the arrays {@code weights} caches for the model (no weight is copied here).
     */
    static LinearizedModel of(ModelConfig config, List<HookSite> sites, Weights weights, boolean layerNorm,
                              TokenSequence tokens, LinearizationSpec spec, NDManager state,
                              Map<HookSite, NDArray> clean) {
        return of(config, sites, weights, layerNorm, tokens, spec, state, clean, Optional.empty(), Map::of);
    }

    /**
     * @param queryKeys the architecture's attention settings when QK attribution is possible (the weights are there)
     * @param inputs    every block's clean {@code hook_resid_pre}, asked for when QK attribution first needs them
     */
    static LinearizedModel of(ModelConfig config, List<HookSite> sites, Weights weights, boolean layerNorm,
                              TokenSequence tokens, LinearizationSpec spec, NDManager state,
                              Map<HookSite, NDArray> clean, Optional<OnnxModelConfig.QueryKeySettings> queryKeys,
                              Supplier<Map<HookSite, NDArray>> inputs) {
        List<FrozenLayer> layers = new ArrayList<>();
        for (int layer = 0; layer < config.layers(); layer++) {
            String b = "blocks." + layer + ".";
            NDArray pattern = clean.get(HookSite.of(SiteKind.ATTN_PATTERN, layer));
            // MatMul weights are [in, out]: W_V [d, KV·h], W_O [H·h, d]; the adjoint takes their transposes
            FrozenAttention attention = new FrozenAttention(pattern.transpose(0, 2, 1),
                    weights.shared(state, b + "attn.W_V", true), weights.shared(state, b + "attn.W_O", true),
                    config.heads(), config.keyValueHeads(), config.headWidth());
            boolean post1 = sites.contains(HookSite.of(SiteKind.LN1_POST_SCALE, layer));
            boolean post2 = sites.contains(HookSite.of(SiteKind.LN2_POST_SCALE, layer));
            layers.add(new FrozenLayer(
                    norm(weights, state, layerNorm, b + "ln1.w", clean.get(HookSite.of(SiteKind.LN1_SCALE, layer))),
                    attention,
                    post1 ? norm(weights, state, layerNorm, b + "ln1_post.w",
                            clean.get(HookSite.of(SiteKind.LN1_POST_SCALE, layer))) : null,
                    norm(weights, state, layerNorm, b + "ln2.w", clean.get(HookSite.of(SiteKind.LN2_SCALE, layer))),
                    post2 ? norm(weights, state, layerNorm, b + "ln2_post.w",
                            clean.get(HookSite.of(SiteKind.LN2_POST_SCALE, layer))) : null));
        }
        FrozenNorm finalNorm = norm(weights, state, layerNorm, "ln_final.w",
                clean.get(HookSite.global(SiteKind.FINAL_SCALE)));
        FrozenTransformer frozen = new FrozenTransformer(layers, finalNorm, config.modelWidth(), tokens.length());
        List<FrozenQueryKey> maps = queryKeys.map(qk -> queryKeyMaps(config, weights, layerNorm, state, clean, qk,
                inputs)).orElse(List.of());
        return new FrozenLinearizedModel(tokens, spec, state, Map.copyOf(clean), frozen, maps);
    }

    /** Each layer's queries and keys from the located weights and the architecture's settings. */
    private static List<FrozenQueryKey> queryKeyMaps(ModelConfig config, Weights weights, boolean layerNorm,
                                                     NDManager state, Map<HookSite, NDArray> clean,
                                                     OnnxModelConfig.QueryKeySettings settings,
                                                     Supplier<Map<HookSite, NDArray>> inputs) {
        Supplier<Map<HookSite, NDArray>> once = Once.of(inputs);
        List<FrozenQueryKey> maps = new ArrayList<>();
        for (int layer = 0; layer < config.layers(); layer++) {
            int l = layer;
            // the query and key weights are read when QK attribution first asks, not for every linearisation
            maps.add(FrozenQueryKey.lazy(() -> queryKeyMap(weights, layerNorm, state, clean, settings, once, l)));
        }
        return maps;
    }

    private static FrozenQueryKey queryKeyMap(Weights weights, boolean layerNorm, NDManager state,
                                              Map<HookSite, NDArray> clean,
                                              OnnxModelConfig.QueryKeySettings settings,
                                              Supplier<Map<HookSite, NDArray>> inputs, int layer) {
        String b = "blocks." + layer + ".";
        AttentionWeights projections = new AttentionWeights(
                linear(weights, state, b + "attn.W_Q", b + "attn.b_Q"),
                linear(weights, state, b + "attn.W_K", b + "attn.b_K"),
                linear(weights, state, b + "attn.W_V", null), linear(weights, state, b + "attn.W_O", null),
                headNorm(weights, state, b + "attn.q_norm.w", settings.headNormEpsilon()),
                headNorm(weights, state, b + "attn.k_norm.w", settings.headNormEpsilon()));
        NormWeights ln1 = new NormWeights(layerNorm ? NormWeights.Kind.LAYER : NormWeights.Kind.RMS,
                weights.shared(state, b + "ln1.w", false),
                weights.has(b + "ln1.b") ? Optional.of(weights.shared(state, b + "ln1.b", false)) : Optional.empty(),
                1e-6f); // the scale is the clean pass's (frozen), so the epsilon is never used
        HookSite input = HookSite.of(SiteKind.RESID_PRE, layer);
        return new BlockQueryKey(new Attention(projections, settings.layers().get(layer)), ln1,
                () -> inputs.get().get(input), clean.get(HookSite.of(SiteKind.LN1_SCALE, layer)), state);
    }

    private static Linear linear(Weights weights, NDManager state, String weight, String bias) {
        return new Linear(weights.shared(state, weight, false), bias != null && weights.has(bias)
                ? Optional.of(weights.shared(state, bias, false)) : Optional.empty());
    }

    private static Optional<NormWeights> headNorm(Weights weights, NDManager state, String gain, float epsilon) {
        return weights.has(gain) ? Optional.of(new NormWeights(NormWeights.Kind.RMS, weights.shared(state, gain, false),
                Optional.empty(), epsilon)) : Optional.empty();
    }

    private static FrozenNorm norm(Weights weights, NDManager state, boolean layerNorm, String gain, NDArray scale) {
        return new FrozenNorm(weights.shared(state, gain, false), layerNorm, scale);
    }
}

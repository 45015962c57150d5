package org.circuittracer.backend.onnx;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transformer.linear.FrozenAttention;
import org.circuittracer.transformer.linear.FrozenLayer;
import org.circuittracer.transformer.linear.FrozenLinearizedModel;
import org.circuittracer.transformer.linear.FrozenNorm;
import org.circuittracer.transformer.linear.FrozenTransformer;

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
        return new FrozenLinearizedModel(tokens, spec, state, Map.copyOf(clean), frozen);
    }

    private static FrozenNorm norm(Weights weights, NDManager state, boolean layerNorm, String gain, NDArray scale) {
        return new FrozenNorm(weights.shared(state, gain, false), layerNorm, scale);
    }
}

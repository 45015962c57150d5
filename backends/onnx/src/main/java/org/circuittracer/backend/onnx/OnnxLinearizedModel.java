package org.circuittracer.backend.onnx;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.circuittracer.backend.djl.linear.AdjointSweep;
import org.circuittracer.backend.djl.linear.FrozenAttention;
import org.circuittracer.backend.djl.linear.FrozenLayer;
import org.circuittracer.backend.djl.linear.FrozenNorm;
import org.circuittracer.backend.djl.linear.FrozenTransformer;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.VjpResult;
import org.circuittracer.spi.model.VjpSeeds;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;

/**
 * An ONNX model linearised around one prompt: the clean forward's captured patterns, scales and sites (owned by
 * {@code state}), and the explicit adjoint of the frozen model ({@link AdjointSweep}, shared with the djl backend)
 * over the weights the site map locates. The sweep runs on DJL arrays of the caller's engine.
 */
final class OnnxLinearizedModel implements LinearizedModel {

    private final TokenSequence tokens;
    private final LinearizationSpec spec;
    private final NDManager state;
    private final Map<HookSite, NDArray> clean;
    private final FrozenTransformer frozen;

    private OnnxLinearizedModel(TokenSequence tokens, LinearizationSpec spec, NDManager state,
                                Map<HookSite, NDArray> clean, FrozenTransformer frozen) {
        this.tokens = tokens;
        this.spec = spec;
        this.state = state;
        this.clean = clean;
        this.frozen = frozen;
    }

    /** The sites whose clean values the linearised model records. */
    static List<HookSite> recordedSites(List<HookSite> sites, LinearizationSpec spec) {
        List<HookSite> recorded = new ArrayList<>();
        for (HookSite site : sites) {
            SiteKind kind = site.kind();
            boolean frozenValue = kind == SiteKind.ATTN_PATTERN || kind.name().endsWith("_SCALE");
            boolean readOrWrite = kind == spec.readSite() || kind == spec.writeSite();
            boolean boundary = kind == SiteKind.EMBED || kind == SiteKind.UNEMBED_IN || kind == SiteKind.LOGITS;
            if (frozenValue || readOrWrite || boundary) {
                recorded.add(site);
            }
        }
        return recorded;
    }

    /**
     * Builds the frozen model from the clean captures (owned by {@code state}) and the located weights: views, owned
     * by {@code state}, of the arrays {@code weights} caches for the model (no weight is copied here).
     */
    static OnnxLinearizedModel of(ModelConfig config, List<HookSite> sites, Weights weights, boolean layerNorm,
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
        return new OnnxLinearizedModel(tokens, spec, state, Map.copyOf(clean), frozen);
    }

    private static FrozenNorm norm(Weights weights, NDManager state, boolean layerNorm, String gain, NDArray scale) {
        return new FrozenNorm(weights.shared(state, gain, false), layerNorm, scale);
    }

    @Override
    public TokenSequence tokens() {
        return tokens;
    }

    @Override
    public LinearizationSpec spec() {
        return spec;
    }

    @Override
    public Map<HookSite, NDArray> clean() {
        return clean;
    }

    @Override
    public VjpResult vjp(NDManager manager, VjpSeeds seeds) {
        Objects.requireNonNull(manager, "manager");
        return AdjointSweep.run(manager, frozen, spec, seeds);
    }

    @Override
    public void close() {
        state.close();
    }
}

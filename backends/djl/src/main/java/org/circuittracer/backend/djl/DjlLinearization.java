package org.circuittracer.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transformer.decoder.Block;
import org.circuittracer.transformer.decoder.BlockQueryKey;
import org.circuittracer.transformer.decoder.Decoder;
import org.circuittracer.transformer.decoder.NormWeights;
import org.circuittracer.transformer.linear.FrozenAttention;
import org.circuittracer.transformer.linear.FrozenLayer;
import org.circuittracer.transformer.linear.FrozenLinearizedModel;
import org.circuittracer.transformer.linear.FrozenNorm;
import org.circuittracer.transformer.linear.FrozenQueryKey;
import org.circuittracer.transformer.linear.FrozenTransformer;
import org.circuittracer.transformer.linear.Once;

/**
 * Linearises a {@link DjlTransformerModel} around one prompt: builds the {@link FrozenTransformer} from the clean
 * forward's values (owned by {@code state}) and the decoder's weights, as a {@link FrozenLinearizedModel}.
 */
final class DjlLinearization {

    private DjlLinearization() {
    }

    /**
     * Floats of one layer's {@code [H, T, T]} pattern above which the linearised model does not keep the patterns but
     * recomputes their rows from the layer's queries and keys in blocks ({@code 64 MiB}: 2,048 tokens with 4 heads).
     * Long prompts would otherwise hold {@code L·H·T²} floats (4 GiB for the tiny llama at 8,192 tokens).
     */
    static final long PATTERN_BUDGET = 1L << 24;

    /** Whether a prompt of {@code length} tokens keeps its recorded patterns under {@code budget}. */
    static boolean keepsPatterns(Decoder decoder, int length, long budget) {
        return (long) decoder.config().heads() * length * length <= budget;
    }

    /** The sites the clean pass records ({@link FrozenLinearizedModel#recordedSites}). */
    static List<HookSite> recordedSites(Decoder decoder, LinearizationSpec spec, boolean keepPatterns) {
        return FrozenLinearizedModel.recordedSites(decoder.sites(), spec, keepPatterns);
    }

    /**
     * Builds the linearised model from a clean forward pass whose captures belong to {@code state}: the sites of
     * {@link #recordedSites}, with or without the patterns ({@code patternBudget} as for {@link #keepsPatterns}).
     */
    static LinearizedModel of(Decoder decoder, TokenSequence tokens, LinearizationSpec spec, NDManager state,
                              Map<HookSite, NDArray> clean, long patternBudget) {
        return of(decoder, tokens, spec, state, clean, patternBudget, () -> clean);
    }

    /**
     * @param residuals gives every block's clean {@code hook_resid_pre} when QK attribution first needs them (a second
     *                  forward pass unless {@code clean} holds them): long prompts do not keep them otherwise
     */
    static LinearizedModel of(Decoder decoder, TokenSequence tokens, LinearizationSpec spec, NDManager state,
                              Map<HookSite, NDArray> clean, long patternBudget,
                              java.util.function.Supplier<Map<HookSite, NDArray>> residuals) {
        java.util.function.Supplier<Map<HookSite, NDArray>> once = Once.of(residuals);
        // recomputed patterns are visited in blocks of at most this many floats (one key at least)
        long blockFloats = Math.max(1, Math.min(FrozenAttention.DEFAULT_BLOCK_FLOATS, patternBudget));
        List<FrozenLayer> layers = new ArrayList<>();
        List<FrozenQueryKey> queryKeys = new ArrayList<>();
        Map<HookSite, FrozenAttention.Pattern> recomputed = new HashMap<>();
        for (int layer = 0; layer < decoder.blocks().size(); layer++) {
            Block block = decoder.blocks().get(layer);
            int l = layer;
            var settings = block.attention().settings();
            var weights = block.attention().weights();
            HookSite patternSite = HookSite.of(SiteKind.ATTN_PATTERN, layer);
            NDArray valueAdjoint = transposed(weights.value().weight(), state);
            NDArray outputAdjoint = transposed(weights.output().weight(), state);
            FrozenAttention attention;
            if (clean.containsKey(patternSite)) {
                attention = new FrozenAttention(clean.get(patternSite).transpose(0, 2, 1), valueAdjoint,
                        outputAdjoint, settings.heads(), settings.keyValueHeads(), settings.headWidth());
            } else {
                FrozenAttention.Pattern pattern = PatternRows.of(block, clean.get(HookSite.of(SiteKind.RESID_PRE,
                        layer)), clean.get(HookSite.of(SiteKind.LN1_SCALE, layer)), state, blockFloats);
                recomputed.put(patternSite, pattern);
                attention = new FrozenAttention(pattern, valueAdjoint, outputAdjoint, settings.heads(),
                        settings.keyValueHeads(), settings.headWidth(), blockFloats);
            }
            FrozenLayer raw = new FrozenLayer(
                    norm(block.ln1(), clean.get(HookSite.of(SiteKind.LN1_SCALE, layer)), state),
                    attention,
                    block.ln1Post().map(n -> norm(n, clean.get(HookSite.of(SiteKind.LN1_POST_SCALE, l)), state))
                            .orElse(null),
                    norm(block.ln2(), clean.get(HookSite.of(SiteKind.LN2_SCALE, layer)), state),
                    block.ln2Post().map(n -> norm(n, clean.get(HookSite.of(SiteKind.LN2_POST_SCALE, l)), state))
                            .orElse(null));
            // norm gains folded into the projections; the unfolded weights (views, or float32 copies of a
            // lower-precision model's) are released rather than kept beside the folded ones for the model's life
            FrozenLayer folded = raw.folded();
            release(raw.attention().valueAdjoint(), folded.attention().valueAdjoint());
            release(raw.attention().outputAdjoint(), folded.attention().outputAdjoint());
            layers.add(folded);
            HookSite input = HookSite.of(SiteKind.RESID_PRE, layer);
            queryKeys.add(new BlockQueryKey(block, () -> clean.containsKey(input) ? clean.get(input)
                    : once.get().get(input), clean.get(HookSite.of(SiteKind.LN1_SCALE, layer)), state));
        }
        FrozenNorm finalNorm = norm(decoder.finalNorm(), clean.get(HookSite.global(SiteKind.FINAL_SCALE)), state);
        FrozenTransformer frozen = new FrozenTransformer(layers, finalNorm, decoder.config().modelWidth(),
                tokens.length());
        Map<HookSite, NDArray> values = recomputed.isEmpty() ? Map.copyOf(clean)
                : new LazyPatterns(clean, recomputed, state, tokens.length());
        return new FrozenLinearizedModel(tokens, spec, state, values, frozen, queryKeys);
    }

    private static void release(NDArray before, NDArray after) {
        if (before != after) {
            before.close();
        }
    }

    private static FrozenNorm norm(NormWeights weights, NDArray scale, NDManager state) {
        NDArray gain = weights.gain();
        if (gain.getDataType() != DataType.FLOAT32) {
            gain = float32(gain, state);
        }
        return new FrozenNorm(gain, weights.kind() == NormWeights.Kind.LAYER, scale);
    }

    /** The transpose of a weight as float32, owned by {@code state} (not by the model's weight manager). */
    private static NDArray transposed(NDArray weight, NDManager state) {
        NDArray transposed = weight.transpose();
        transposed.attach(state);
        return transposed.getDataType() == DataType.FLOAT32 ? transposed : float32(transposed, state);
    }

    /** A float32 copy (gradients are float32 whatever the model's precision), owned by {@code state}. */
    private static NDArray float32(NDArray array, NDManager state) {
        NDArray copy = array.toType(DataType.FLOAT32, true);
        copy.attach(state);
        return copy;
    }
}

package org.circuittracer.transformer.decoder;

import static org.circuittracer.spi.site.SiteKind.ATTN_OUT;
import static org.circuittracer.spi.site.SiteKind.ATTN_PATTERN;
import static org.circuittracer.spi.site.SiteKind.EMBED;
import static org.circuittracer.spi.site.SiteKind.FINAL_NORMALIZED;
import static org.circuittracer.spi.site.SiteKind.FINAL_SCALE;
import static org.circuittracer.spi.site.SiteKind.LN1_POST_SCALE;
import static org.circuittracer.spi.site.SiteKind.LN1_SCALE;
import static org.circuittracer.spi.site.SiteKind.LN2_NORMALIZED;
import static org.circuittracer.spi.site.SiteKind.LN2_POST_SCALE;
import static org.circuittracer.spi.site.SiteKind.LN2_SCALE;
import static org.circuittracer.spi.site.SiteKind.LOGITS;
import static org.circuittracer.spi.site.SiteKind.MLP_IN;
import static org.circuittracer.spi.site.SiteKind.MLP_OUT;
import static org.circuittracer.spi.site.SiteKind.MLP_OUT_RAW;
import static org.circuittracer.spi.site.SiteKind.POS_EMBED;
import static org.circuittracer.spi.site.SiteKind.RESID_MID;
import static org.circuittracer.spi.site.SiteKind.RESID_POST;
import static org.circuittracer.spi.site.SiteKind.RESID_PRE;
import static org.circuittracer.spi.site.SiteKind.UNEMBED_IN;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;

/**
 * One forward pass of a {@link Decoder} over one sequence (no batch axis), calling {@link SiteHooks} at every site in
 * forward order; every value a hook returns is what the rest of the pass uses. Norms divide by their scale
 * explicitly, so replacing a {@code *.hook_scale} (or {@code attn.hook_pattern}) changes the computation.
 *
 * <p>A pass may also continue a sequence held in a {@link KeyValueCache} (incremental generation): it then computes
 * only the new positions, whose queries attend over the cached keys.
 *
 * <p>Temporaries of each block live in a sub-manager of {@code scratch} that is closed when the block is done; the
 * logits belong to {@code scratch}. Norms, attention logits and softmax are computed in float32 (as the reference
 * does in half precision); logits are returned in float32.
 */
public final class DecoderForward {

    private final Decoder decoder;
    private final NDManager scratch;
    private final SiteHooks hooks;
    private final int first;
    private final int length;
    private final KeyValueCache cache;
    private final Map<Integer, NDArray> masksByWindow = new HashMap<>();
    private final Map<RotaryEmbedding, RotaryEmbedding.Tables> rotations = new IdentityHashMap<>();

    private DecoderForward(Decoder decoder, NDManager scratch, SiteHooks hooks, int first, int length,
                           KeyValueCache cache) {
        this.decoder = decoder;
        this.scratch = scratch;
        this.hooks = hooks;
        this.first = first;
        this.length = length;
        this.cache = cache;
    }

    /**
     * Runs the model.
     *
     * @param ids     token ids, each in {@code [0, V)}; at most the model's maximum positions (checked by the caller)
     * @param scratch owns the logits and everything {@code hooks} keep; closed by the caller
     * @return logits {@code [T, V]} (float32, after any soft-cap and {@code hook_logits} hooks)
     */
    public static NDArray run(Decoder decoder, NDManager scratch, int[] ids, SiteHooks hooks) {
        return new DecoderForward(decoder, scratch, hooks, 0, ids.length, null).run(ids);
    }

    /**
     * Runs the model on the positions {@code cache.length()} … {@code cache.length() + n − 1} of a sequence whose
     * earlier positions are in {@code cache}: the new queries attend over the cached keys and the new ones, and the new
     * keys and values are appended to the cache. With an empty cache this is the whole forward pass that also fills
     * the cache (a generation's prompt pass); with one id it is a generation step.
     *
     * @param ids     the {@code n} new token ids; {@code cache.length() + n} must not exceed the cache's capacity nor
     *                the model's maximum positions (checked by the caller)
     * @param hooks   called with the pass's values: {@code n} rows for position-wise sites, {@code [H, n, T]} patterns
     *                where {@code T = cache.length() + n}
     * @return logits {@code [n, V]} of the new positions, in {@code scratch}
     */
    public static NDArray run(Decoder decoder, NDManager scratch, int[] ids, SiteHooks hooks, KeyValueCache cache) {
        NDArray logits = new DecoderForward(decoder, scratch, hooks, cache.length(), ids.length, cache).run(ids);
        cache.advance(ids.length);
        return logits;
    }

    private NDArray run(int[] ids) {
        Embeddings embeddings = decoder.embeddings();
        NDArray residual = hooks.at(HookSite.global(EMBED), embeddings.embed(scratch, ids));
        if (embeddings.positions().isPresent()) {
            residual = residual.add(hooks.at(HookSite.global(POS_EMBED),
                    embeddings.positionsOf(scratch, first, length)));
        }
        for (int layer = 0; layer < decoder.blocks().size(); layer++) {
            try (NDManager blockScope = scratch.newSubManager()) {
                blockScope.tempAttachAll(residual); // so the block's temporaries land in blockScope
                NDArray next = block(layer, residual);
                next.attach(scratch);
                residual = next;
            }
        }
        NDArray z = norm(decoder.finalNorm(), residual, HookSite.global(FINAL_SCALE), HookSite.global(FINAL_NORMALIZED));
        z = hooks.at(HookSite.global(UNEMBED_IN), z);
        NDArray logits = decoder.unembed().apply(z).toType(DataType.FLOAT32, false);
        float cap = decoder.finalLogitSoftcap();
        if (cap > 0) {
            logits = logits.div(cap).tanh().mul(cap);
        }
        return hooks.at(HookSite.global(LOGITS), logits);
    }

    private NDArray block(int layer, NDArray input) {
        Block block = decoder.blocks().get(layer);
        NDArray residual = hooks.at(site(RESID_PRE, layer), input);

        NDArray attention = attend(layer, block.attention(), norm(block.ln1(), residual, site(LN1_SCALE, layer), null));
        if (block.ln1Post().isPresent()) {
            attention = norm(block.ln1Post().get(), attention, site(LN1_POST_SCALE, layer), null);
        }
        attention = hooks.at(site(ATTN_OUT, layer), attention);
        NDArray mid = hooks.at(site(RESID_MID, layer), residual.add(attention));

        NDArray mlpIn = hooks.at(site(MLP_IN, layer),
                norm(block.ln2(), mid, site(LN2_SCALE, layer), site(LN2_NORMALIZED, layer)));
        NDArray mlpOut = hooks.at(site(MLP_OUT_RAW, layer), block.mlp().apply(mlpIn));
        if (block.ln2Post().isPresent()) {
            mlpOut = norm(block.ln2Post().get(), mlpOut, site(LN2_POST_SCALE, layer), null);
        }
        mlpOut = hooks.at(site(MLP_OUT, layer), mlpOut);
        return hooks.at(site(RESID_POST, layer), mid.add(mlpOut));
    }

    private NDArray attend(int layer, Attention attention, NDArray normalized) {
        AttentionSettings settings = attention.settings();
        RotaryEmbedding.Tables rotation = settings.rotary().map(r -> rotations.computeIfAbsent(r,
                key -> key.tables(scratch, first, length, normalized.getDataType()))).orElse(null);
        NDArray mask = masksByWindow.computeIfAbsent(settings.slidingWindow(),
                window -> Attention.maskBias(scratch, first, length, first + length, window));
        NDArray queries = attention.queries(normalized, rotation);
        NDArray keys = attention.keys(normalized, rotation);
        NDArray values = attention.values(normalized);
        if (cache != null) {
            KeyValueCache.Entries all = cache.append(layer, keys, values);
            keys = all.keys();
            values = all.values();
        }
        NDArray pattern = hooks.at(site(ATTN_PATTERN, layer), attention.pattern(queries, keys, mask));
        return attention.output(attention.mix(pattern, values));
    }

    /** The norm with its scale (and, if given, its normalised value) passed through the hooks. */
    private NDArray norm(NormWeights norm, NDArray x, HookSite scaleSite, HookSite normalizedSite) {
        NDArray centered = norm.centered(x.toType(DataType.FLOAT32, false));
        NDArray scale = hooks.at(scaleSite, norm.scale(centered));
        NDArray normalized = centered.div(scale);
        if (normalizedSite != null) {
            normalized = hooks.at(normalizedSite, normalized);
        }
        return norm.applyGain(normalized).toType(x.getDataType(), false);
    }

    private static HookSite site(SiteKind kind, int layer) {
        return HookSite.of(kind, layer);
    }
}

package org.circuittracer.spi.site;

import java.util.Arrays;
import java.util.Optional;

/**
 * The kinds of hook site, with their TransformerLens names and tensor shapes. Shapes are for one sequence of
 * {@code T} positions (no batch axis): {@code d} = residual width, {@code H} = attention heads,
 * {@code V} = vocabulary size.
 *
 * <p>Inside block {@code L} of a pre-norm transformer:
 * <pre>
 * resid_pre ─ln1─► attention ─[ln1_post, Gemma]─► attn_out ─(+ resid_pre)─► resid_mid
 * resid_mid ─÷ ln2 scale─► ln2.hook_normalized ─× gain─► mlp.hook_in ─MLP─► mlp.hook_out
 * mlp.hook_out ─[ln2_post, Gemma]─► hook_mlp_out ─(+ resid_mid)─► resid_post = next resid_pre
 * </pre>
 * For models without post-norms {@link #MLP_OUT_RAW} and {@link #MLP_OUT} hold the same value.
 * Norm scales are the frozen denominators: {@code sqrt(mean(x²) + ε)} for RMSNorm, {@code sqrt(var(x) + ε)} for
 * LayerNorm.
 */
public enum SiteKind {
    /** {@code hook_embed} [T, d]: token embeddings as they enter the residual (after any scaling, e.g. Gemma's √d). */
    EMBED("hook_embed", false, "[T, d]"),
    /** {@code hook_pos_embed} [T, d]: learned absolute position embeddings (GPT-2); absent for rotary models. */
    POS_EMBED("hook_pos_embed", false, "[T, d]"),
    /** {@code blocks.L.hook_resid_pre} [T, d]: residual stream entering block L. */
    RESID_PRE("hook_resid_pre", true, "[T, d]"),
    /** {@code blocks.L.ln1.hook_scale} [T, 1]: denominator of the pre-attention norm. */
    LN1_SCALE("ln1.hook_scale", true, "[T, 1]"),
    /** {@code blocks.L.attn.hook_pattern} [H, T, T]: attention probabilities [head, query, key]. */
    ATTN_PATTERN("attn.hook_pattern", true, "[H, T, T]"),
    /** {@code blocks.L.ln1_post.hook_scale} [T, 1]: denominator of the post-attention norm (Gemma-2/3 only). */
    LN1_POST_SCALE("ln1_post.hook_scale", true, "[T, 1]"),
    /** {@code blocks.L.hook_attn_out} [T, d]: what attention adds to the residual (after any post-attention norm). */
    ATTN_OUT("hook_attn_out", true, "[T, d]"),
    /** {@code blocks.L.hook_resid_mid} [T, d]: residual after attention, input of the pre-MLP norm. */
    RESID_MID("hook_resid_mid", true, "[T, d]"),
    /** {@code blocks.L.ln2.hook_scale} [T, 1]: denominator of the pre-MLP norm. */
    LN2_SCALE("ln2.hook_scale", true, "[T, 1]"),
    /** {@code blocks.L.ln2.hook_normalized} [T, d]: pre-MLP norm output <em>before</em> its gain (GemmaScope input). */
    LN2_NORMALIZED("ln2.hook_normalized", true, "[T, d]"),
    /** {@code blocks.L.mlp.hook_in} [T, d]: MLP input, the pre-MLP norm output with its gain applied. */
    MLP_IN("mlp.hook_in", true, "[T, d]"),
    /** {@code blocks.L.mlp.hook_out} [T, d]: MLP module output, before any post-MLP norm. */
    MLP_OUT_RAW("mlp.hook_out", true, "[T, d]"),
    /** {@code blocks.L.ln2_post.hook_scale} [T, 1]: denominator of the post-MLP norm (Gemma-2/3 only). */
    LN2_POST_SCALE("ln2_post.hook_scale", true, "[T, 1]"),
    /** {@code blocks.L.hook_mlp_out} [T, d]: what the MLP block adds to the residual (after any post-MLP norm). */
    MLP_OUT("hook_mlp_out", true, "[T, d]"),
    /** {@code blocks.L.hook_resid_post} [T, d]: residual leaving block L. */
    RESID_POST("hook_resid_post", true, "[T, d]"),
    /** {@code ln_final.hook_scale} [T, 1]: denominator of the final norm. */
    FINAL_SCALE("ln_final.hook_scale", false, "[T, 1]"),
    /** {@code ln_final.hook_normalized} [T, d]: final norm output before its gain. */
    FINAL_NORMALIZED("ln_final.hook_normalized", false, "[T, d]"),
    /** {@code unembed.hook_in} [T, d]: final norm output with its gain, the unembedding's input ({@code z}). */
    UNEMBED_IN("unembed.hook_in", false, "[T, d]"),
    /** {@code hook_logits} [T, V]: output logits (after any final soft-cap). */
    LOGITS("hook_logits", false, "[T, V]");

    private final String hookName;
    private final boolean perLayer;
    private final String shape;

    SiteKind(String hookName, boolean perLayer, String shape) {
        this.hookName = hookName;
        this.perLayer = perLayer;
        this.shape = shape;
    }

    /** The name without the {@code blocks.L.} prefix, e.g. {@code ln2.hook_normalized}. */
    public String hookName() {
        return hookName;
    }

    /** Whether the site exists once per block (and so needs a layer index). */
    public boolean perLayer() {
        return perLayer;
    }

    /** The documented tensor shape, e.g. {@code [T, d]}. */
    public String shape() {
        return shape;
    }

    /** Looks a kind up by its hook name, e.g. {@code hook_mlp_out} or {@code mlp.hook_in}. */
    public static Optional<SiteKind> fromHookName(String hookName) {
        return Arrays.stream(values()).filter(k -> k.hookName.equals(hookName)).findFirst();
    }
}

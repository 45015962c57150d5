package org.circuittracer.transformer.architecture;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.transformer.checkpoint.WeightReader;
import org.circuittracer.transformer.decoder.Activation;
import org.circuittracer.transformer.decoder.Attention;
import org.circuittracer.transformer.decoder.AttentionSettings;
import org.circuittracer.transformer.decoder.AttentionWeights;
import org.circuittracer.transformer.decoder.Block;
import org.circuittracer.transformer.decoder.Decoder;
import org.circuittracer.transformer.decoder.DeferredWeight;
import org.circuittracer.transformer.decoder.Embeddings;
import org.circuittracer.transformer.decoder.Linear;
import org.circuittracer.transformer.decoder.Mlp;
import org.circuittracer.transformer.decoder.NormWeights;
import org.circuittracer.transformer.decoder.RotaryEmbedding;

/**
 * Reads the weights of Llama-style checkpoints ({@code model.embed_tokens}, {@code model.layers.L.self_attn.*_proj},
 * {@code model.layers.L.mlp.*_proj}, {@code model.norm}, {@code lm_head}), whose {@code nn.Linear} weights are
 * stored {@code [out, in]}; in a multimodal checkpoint, those of its language model.
 */
final class LlamaStyleWeights {

    /** Where a multimodal checkpoint keeps its language model's {@code model.*} tensors, old and new spelling. */
    private static final List<String> LANGUAGE_MODEL_ROOTS = List.of("language_model.model.", "model.language_model.");

    private final WeightReader weights;
    private final LlamaStyleConfig config;
    private final String root; // "model." in a causal LM checkpoint
    private final String head; // "lm_head.weight" in a causal LM checkpoint

    LlamaStyleWeights(WeightReader weights, LlamaStyleConfig config) {
        this(weights, config, "model.", "lm_head.weight");
    }

    private LlamaStyleWeights(WeightReader weights, LlamaStyleConfig config, String root, String head) {
        this.weights = weights;
        this.config = config;
        this.root = root;
        this.head = head;
    }

    /**
     * The language model inside a multimodal checkpoint ({@code *ForConditionalGeneration}), whose tensors are named
     * {@code language_model.model.*} (or {@code model.language_model.*} as newer Hugging Face versions save them);
     * a checkpoint saved from the language model alone ({@code model.*}) is read too.
     */
    static LlamaStyleWeights languageModelOf(WeightReader weights, LlamaStyleConfig config) {
        for (String root : LANGUAGE_MODEL_ROOTS) {
            if (weights.contains(root + "embed_tokens.weight")) {
                String head = root.startsWith("language_model.") ? "language_model.lm_head.weight" : "lm_head.weight";
                return new LlamaStyleWeights(weights, config, root, head);
            }
        }
        return new LlamaStyleWeights(weights, config);
    }

    /**
     * A decoder with Gemma's norms: {@code (1 + w)} RMSNorm gains, a norm before and after both attention and MLP,
     * embeddings × √d, tied unembedding (Gemma 2 and 3).
     *
     * @param layerSettings per layer: heads, scale, soft-cap, window and rotation
     * @param queryKeyNorms per-head {@code (1 + w)} RMSNorms on queries and keys (Gemma 3)
     * @param finalSoftcap  the final-logit soft-cap, 0 for none
     */
    Decoder gemmaDecoder(ModelConfig modelConfig, List<AttentionSettings> layerSettings, boolean attentionBias,
                         boolean queryKeyNorms, Activation activation, float finalSoftcap) {
        List<Block> blocks = new ArrayList<>();
        for (int layer = 0; layer < config.layers(); layer++) {
            blocks.add(new Block(layerNorm(layer, "input_layernorm", true),
                    new Attention(attention(layer, attentionBias, queryKeyNorms, true), layerSettings.get(layer)),
                    Optional.of(layerNorm(layer, "post_attention_layernorm", true)),
                    layerNorm(layer, "pre_feedforward_layernorm", true),
                    gatedMlp(layer, activation, false),
                    Optional.of(layerNorm(layer, "post_feedforward_layernorm", true))));
        }
        NDArray tokens = tokenEmbeddings();
        // √d rounded to float32 first, as the reference does (it casts the normaliser to the activations' dtype)
        float embedScale = (float) Math.sqrt(config.hiddenSize());
        return new Decoder(modelConfig, new Embeddings(tokens, Optional.empty(), embedScale), blocks,
                rmsNorm(root + "norm.weight", config.hiddenSize(), true), unembedding(tokens), finalSoftcap);
    }

    /**
     * A pre-norm decoder with one RMSNorm before attention and one before the MLP, no post-norms, no soft-caps
     * (Llama and Qwen-3).
     *
     * @param queryKeyNorms per-head RMSNorms on queries and keys (Qwen-3)
     */
    Decoder singleNormDecoder(ModelConfig modelConfig, RotaryEmbedding rotary, boolean attentionBias,
                              boolean queryKeyNorms, Activation activation, boolean mlpBias) {
        AttentionSettings settings = singleNormSettings(config, rotary);
        List<Block> blocks = new ArrayList<>();
        for (int layer = 0; layer < config.layers(); layer++) {
            blocks.add(new Block(layerNorm(layer, "input_layernorm", false),
                    new Attention(attention(layer, attentionBias, queryKeyNorms, false), settings), Optional.empty(),
                    layerNorm(layer, "post_attention_layernorm", false),
                    gatedMlp(layer, activation, mlpBias), Optional.empty()));
        }
        NDArray tokens = tokenEmbeddings();
        return new Decoder(modelConfig, new Embeddings(tokens, Optional.empty(), 1f), blocks,
                rmsNorm(root + "norm.weight", config.hiddenSize(), false), unembedding(tokens), 0);
    }

    /** {@code [V, d]}. */
    NDArray tokenEmbeddings() {
        return weights.require(root + "embed_tokens.weight", config.vocabularySize(), config.hiddenSize());
    }

    /** {@code lm_head} as {@code [d, V]}, or the transposed token embeddings when tied or absent. */
    Linear unembedding(NDArray tokenEmbeddings) {
        NDArray unembed = config.tieWordEmbeddings() ? tokenEmbeddings : weights.optional(head,
                config.vocabularySize(), config.hiddenSize()).orElse(tokenEmbeddings);
        return new Linear(unembed.transpose(), Optional.empty());
    }

    /** An RMSNorm of width {@code width}; {@code plusOne} for Gemma's {@code (1 + w)} gain. */
    /** The attention settings of every layer of a single-norm decoder (Llama, Qwen-3). */
    static AttentionSettings singleNormSettings(LlamaStyleConfig config, RotaryEmbedding rotary) {
        return new AttentionSettings(config.heads(), config.keyValueHeads(), config.headDim(), config.attentionScale(),
                0, 0, Optional.of(rotary));
    }

    NormWeights rmsNorm(String name, long width, boolean plusOne) {
        NDArray w = weights.require(name, width);
        return new NormWeights(NormWeights.Kind.RMS, plusOne ? w.add(1f) : w, Optional.empty(), config.rmsNormEps());
    }

    /**
     * {@code model.layers.L.self_attn}, optionally with per-head {@code q_norm}/{@code k_norm} (Qwen 3; Gemma 3 with
     * {@code (1 + w)} gains: {@code plusOne}).
     */
    AttentionWeights attention(int layer, boolean bias, boolean queryKeyNorms, boolean plusOne) {
        String p = layerPrefix(layer) + "self_attn.";
        long d = config.hiddenSize();
        long qWidth = (long) config.heads() * config.headDim();
        long kvWidth = (long) config.keyValueHeads() * config.headDim();
        // queries and keys only shape the (recorded) pattern, so they may be widened per use; the linearised model
        // keeps the value and output projections
        return new AttentionWeights(forwardOnly(p + "q_proj", d, qWidth, bias),
                forwardOnly(p + "k_proj", d, kvWidth, bias),
                linear(p + "v_proj", d, kvWidth, bias), linear(p + "o_proj", qWidth, d, bias),
                queryKeyNorms ? Optional.of(rmsNorm(p + "q_norm.weight", config.headDim(), plusOne)) : Optional.empty(),
                queryKeyNorms ? Optional.of(rmsNorm(p + "k_norm.weight", config.headDim(), plusOne)) : Optional.empty());
    }

    /** {@code model.layers.L.mlp}: gate, up and down projections. */
    Mlp gatedMlp(int layer, Activation activation, boolean bias) {
        String p = layerPrefix(layer) + "mlp.";
        long d = config.hiddenSize();
        long m = config.intermediateSize();
        // the linearised model cuts the MLP: its weights are needed by forward passes only
        return new Mlp.Gated(forwardOnly(p + "gate_proj", d, m, bias), forwardOnly(p + "up_proj", d, m, bias),
                forwardOnly(p + "down_proj", m, d, bias), activation);
    }

    /** The norm weight {@code model.layers.L.<name>.weight}. */
    NormWeights layerNorm(int layer, String name, boolean plusOne) {
        return rmsNorm(layerPrefix(layer) + name + ".weight", config.hiddenSize(), plusOne);
    }

    private String layerPrefix(int layer) {
        return root + "layers." + layer + ".";
    }

    /** A projection used only by forward passes: widened per use when the reader defers widening. */
    private Linear forwardOnly(String name, long in, long out, boolean bias) {
        Optional<DeferredWeight> deferred = weights.deferred(name + ".weight", out, in);
        if (deferred.isEmpty()) {
            return linear(name, in, out, bias);
        }
        return Linear.deferred(deferred.get(), true,
                bias ? Optional.of(weights.require(name + ".bias", out)) : Optional.empty(), weights.manager());
    }

    private Linear linear(String name, long in, long out, boolean bias) {
        NDArray w = weights.require(name + ".weight", out, in);
        return new Linear(w.transpose(), bias ? Optional.of(weights.require(name + ".bias", out)) : Optional.empty());
    }
}

package org.circuittracer.backend.djl.architecture;

import ai.djl.ndarray.NDArray;
import java.util.Optional;
import org.circuittracer.backend.djl.checkpoint.WeightReader;
import org.circuittracer.backend.djl.decoder.Activation;
import org.circuittracer.backend.djl.decoder.AttentionWeights;
import org.circuittracer.backend.djl.decoder.Linear;
import org.circuittracer.backend.djl.decoder.Mlp;
import org.circuittracer.backend.djl.decoder.NormWeights;

/**
 * Reads the weights of Llama-style checkpoints ({@code model.embed_tokens}, {@code model.layers.L.self_attn.*_proj},
 * {@code model.layers.L.mlp.*_proj}, {@code model.norm}, {@code lm_head}), whose {@code nn.Linear} weights are
 * stored {@code [out, in]}.
 */
final class LlamaStyleWeights {

    private final WeightReader weights;
    private final LlamaStyleConfig config;

    LlamaStyleWeights(WeightReader weights, LlamaStyleConfig config) {
        this.weights = weights;
        this.config = config;
    }

    /** {@code [V, d]}. */
    NDArray tokenEmbeddings() {
        return weights.require("model.embed_tokens.weight", config.vocabularySize(), config.hiddenSize());
    }

    /** {@code lm_head} as {@code [d, V]}, or the transposed token embeddings when tied or absent. */
    Linear unembedding(NDArray tokenEmbeddings) {
        NDArray head = config.tieWordEmbeddings() ? tokenEmbeddings : weights.optional("lm_head.weight",
                config.vocabularySize(), config.hiddenSize()).orElse(tokenEmbeddings);
        return new Linear(head.transpose(), Optional.empty());
    }

    /** An RMSNorm of width {@code width}; {@code plusOne} for Gemma's {@code (1 + w)} gain. */
    NormWeights rmsNorm(String name, long width, boolean plusOne) {
        NDArray w = weights.require(name, width);
        return new NormWeights(NormWeights.Kind.RMS, plusOne ? w.add(1f) : w, Optional.empty(), config.rmsNormEps());
    }

    /** {@code model.layers.L.self_attn}, optionally with Qwen-3's per-head {@code q_norm}/{@code k_norm}. */
    AttentionWeights attention(int layer, boolean bias, boolean queryKeyNorms) {
        String p = layerPrefix(layer) + "self_attn.";
        long d = config.hiddenSize();
        long qWidth = (long) config.heads() * config.headDim();
        long kvWidth = (long) config.keyValueHeads() * config.headDim();
        return new AttentionWeights(linear(p + "q_proj", d, qWidth, bias), linear(p + "k_proj", d, kvWidth, bias),
                linear(p + "v_proj", d, kvWidth, bias), linear(p + "o_proj", qWidth, d, bias),
                queryKeyNorms ? Optional.of(rmsNorm(p + "q_norm.weight", config.headDim(), false)) : Optional.empty(),
                queryKeyNorms ? Optional.of(rmsNorm(p + "k_norm.weight", config.headDim(), false)) : Optional.empty());
    }

    /** {@code model.layers.L.mlp}: gate, up and down projections. */
    Mlp gatedMlp(int layer, Activation activation, boolean bias) {
        String p = layerPrefix(layer) + "mlp.";
        long d = config.hiddenSize();
        long m = config.intermediateSize();
        return new Mlp.Gated(linear(p + "gate_proj", d, m, bias), linear(p + "up_proj", d, m, bias),
                linear(p + "down_proj", m, d, bias), activation);
    }

    /** The norm weight {@code model.layers.L.<name>.weight}. */
    NormWeights layerNorm(int layer, String name, boolean plusOne) {
        return rmsNorm(layerPrefix(layer) + name + ".weight", config.hiddenSize(), plusOne);
    }

    static String layerPrefix(int layer) {
        return "model.layers." + layer + ".";
    }

    private Linear linear(String name, long in, long out, boolean bias) {
        NDArray w = weights.require(name + ".weight", out, in);
        return new Linear(w.transpose(), bias ? Optional.of(weights.require(name + ".bias", out)) : Optional.empty());
    }
}

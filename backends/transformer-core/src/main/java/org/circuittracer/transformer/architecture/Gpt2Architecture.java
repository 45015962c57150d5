package org.circuittracer.transformer.architecture;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.transformer.checkpoint.JsonConfig;
import org.circuittracer.transformer.checkpoint.WeightReader;
import org.circuittracer.transformer.decoder.Activation;
import org.circuittracer.transformer.decoder.Attention;
import org.circuittracer.transformer.decoder.AttentionSettings;
import org.circuittracer.transformer.decoder.AttentionWeights;
import org.circuittracer.transformer.decoder.Block;
import org.circuittracer.transformer.decoder.Decoder;
import org.circuittracer.transformer.decoder.Embeddings;
import org.circuittracer.transformer.decoder.Linear;
import org.circuittracer.transformer.decoder.Mlp;
import org.circuittracer.transformer.decoder.NormWeights;

/**
 * {@code GPT2LMHeadModel}: LayerNorm with bias, learned absolute positions, fused {@code c_attn} (q | k | v along
 * the output axis), {@code gelu_new} MLP, biases everywhere, {@code lm_head} tied to {@code wte}. {@code Conv1D}
 * weights are stored {@code [in, out]}. Tensor names may carry the {@code transformer.} prefix or not.
 */
public final class Gpt2Architecture implements Architecture {

    static final String NAME = "GPT2LMHeadModel";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ArchitectureConfig read(JsonConfig json) {
        int width = json.requirePositiveInt("n_embd");
        int heads = json.requirePositiveInt("n_head");
        if (width % heads != 0) {
            throw json.malformed("\"n_embd\" (" + width + ") must be a multiple of \"n_head\" (" + heads + ")");
        }
        return new Config(json.requirePositiveInt("vocab_size"), width, LlamaStyleConfig.layers(json, "n_layer"), heads,
                json.positiveIntOr("n_inner", 4 * width), json.positiveIntOr("n_positions", 1024),
                (float) json.doubleOr("layer_norm_epsilon", 1e-5),
                Activations.read(json, "activation_function", Activation.GELU_TANH),
                json.booleanOr("scale_attn_weights", true), json.booleanOr("scale_attn_by_inverse_layer_idx", false),
                json.booleanOr("tie_word_embeddings", true));
    }

    /**
     * A GPT-2 {@code config.json}.
     *
     * @param vocabularySize           {@code vocab_size}
     * @param width                    {@code n_embd}
     * @param layers                   {@code n_layer}
     * @param heads                    {@code n_head}
     * @param mlpWidth                 {@code n_inner} (default 4 · width)
     * @param positions                {@code n_positions}
     * @param layerNormEpsilon         {@code layer_norm_epsilon}
     * @param activation               {@code activation_function}
     * @param scaleAttnWeights         {@code scale_attn_weights}: divide logits by √(head width)
     * @param scaleByInverseLayerIndex {@code scale_attn_by_inverse_layer_idx}: also divide by layer + 1
     * @param tieWordEmbeddings        {@code tie_word_embeddings}
     */
    record Config(int vocabularySize, int width, int layers, int heads, int mlpWidth, int positions,
                  float layerNormEpsilon, Activation activation, boolean scaleAttnWeights,
                  boolean scaleByInverseLayerIndex, boolean tieWordEmbeddings) implements ArchitectureConfig {

        @Override
        public ModelConfig modelConfig(String modelName) {
            return new ModelConfig(modelName, NAME, layers, width, heads, heads, width / heads, mlpWidth,
                    vocabularySize, positions);
        }

        @Override
        public Decoder load(WeightReader weights, String modelName) {
            // checkpoints saved from GPT2LMHeadModel have the prefix; those of the original gpt2 do not
            boolean bare = weights.contains("wte.weight") && !weights.contains("transformer.wte.weight");
            String p = bare ? "" : "transformer.";
            List<Block> blocks = new ArrayList<>();
            for (int layer = 0; layer < layers; layer++) {
                String b = p + "h." + layer + ".";
                blocks.add(new Block(layerNorm(weights, b + "ln_1"), new Attention(attention(weights, b + "attn."),
                        settings(layer)), Optional.empty(), layerNorm(weights, b + "ln_2"),
                        new Mlp.Dense(conv1d(weights, b + "mlp.c_fc", width, mlpWidth),
                                conv1d(weights, b + "mlp.c_proj", mlpWidth, width), activation), Optional.empty()));
            }
            NDArray tokens = weights.require(p + "wte.weight", vocabularySize, width);
            NDArray positionTable = weights.require(p + "wpe.weight", positions, width);
            NDArray head = tieWordEmbeddings ? tokens
                    : weights.optional("lm_head.weight", vocabularySize, width).orElse(tokens);
            return new Decoder(modelConfig(modelName), new Embeddings(tokens, Optional.of(positionTable), 1f), blocks,
                    layerNorm(weights, p + "ln_f"), new Linear(head.transpose(), Optional.empty()), 0);
        }

        @Override
        public List<AttentionSettings> attentionSettings() {
            List<AttentionSettings> all = new ArrayList<>();
            for (int layer = 0; layer < layers; layer++) {
                all.add(settings(layer));
            }
            return all;
        }

        private AttentionSettings settings(int layer) {
            int headWidth = width / heads;
            double scale = (scaleAttnWeights ? 1 / Math.sqrt(headWidth) : 1)
                    / (scaleByInverseLayerIndex ? layer + 1 : 1);
            return new AttentionSettings(heads, heads, headWidth, (float) scale, 0, 0, Optional.empty());
        }

        /** Splits the fused {@code c_attn} into views of its query, key and value columns (no copies). */
        private AttentionWeights attention(WeightReader weights, String prefix) {
            NDArray w = weights.require(prefix + "c_attn.weight", width, 3L * width);
            NDArray bias = weights.require(prefix + "c_attn.bias", 3L * width);
            Linear[] qkv = new Linear[3];
            for (int i = 0; i < 3; i++) {
                String columns = i * width + ":" + (i + 1) * width;
                qkv[i] = new Linear(w.get(":, " + columns), Optional.of(bias.get(columns)));
            }
            return new AttentionWeights(qkv[0], qkv[1], qkv[2], conv1d(weights, prefix + "c_proj", width, width),
                    Optional.empty(), Optional.empty());
        }

        private Linear conv1d(WeightReader weights, String name, long in, long out) {
            return new Linear(weights.require(name + ".weight", in, out),
                    Optional.of(weights.require(name + ".bias", out)));
        }

        private NormWeights layerNorm(WeightReader weights, String name) {
            return new NormWeights(NormWeights.Kind.LAYER, weights.require(name + ".weight", width),
                    Optional.of(weights.require(name + ".bias", width)), layerNormEpsilon);
        }
    }
}

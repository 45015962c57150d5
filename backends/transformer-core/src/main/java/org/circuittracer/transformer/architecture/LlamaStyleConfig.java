package org.circuittracer.transformer.architecture;

import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.transformer.checkpoint.JsonConfig;

/**
 * The {@code config.json} fields that Llama-style architectures (Llama, Gemma, Qwen) share.
 *
 * @param vocabularySize    {@code vocab_size}
 * @param hiddenSize        {@code hidden_size}, the residual width {@code d}
 * @param intermediateSize  {@code intermediate_size}, the MLP width
 * @param layers            {@code num_hidden_layers}
 * @param heads             {@code num_attention_heads}
 * @param keyValueHeads     {@code num_key_value_heads} (default: {@code heads})
 * @param headDim           {@code head_dim} (default per architecture)
 * @param rmsNormEps        {@code rms_norm_eps}
 * @param ropeTheta         {@code rope_theta}
 * @param maxPositions      {@code max_position_embeddings}
 * @param tieWordEmbeddings {@code tie_word_embeddings}
 */
record LlamaStyleConfig(int vocabularySize, int hiddenSize, int intermediateSize, int layers, int heads,
                        int keyValueHeads, int headDim, float rmsNormEps, double ropeTheta, int maxPositions,
                        boolean tieWordEmbeddings) {

    /**
     * The Hugging Face configuration class's defaults for the optional fields.
     *
     * @param headDim 0 for {@code hidden_size / num_attention_heads}
     */
    record Defaults(int headDim, float rmsNormEps, double ropeTheta, int maxPositions, boolean tieWordEmbeddings) {
    }

    static LlamaStyleConfig read(JsonConfig json, Defaults defaults) {
        int hidden = json.requirePositiveInt("hidden_size");
        int heads = json.requirePositiveInt("num_attention_heads");
        int kvHeads = json.positiveIntOr("num_key_value_heads", heads);
        if (heads % kvHeads != 0) {
            throw json.malformed("\"num_attention_heads\" (" + heads + ") must be a multiple of "
                    + "\"num_key_value_heads\" (" + kvHeads + ")");
        }
        if (defaults.headDim() == 0 && !json.has("head_dim") && hidden % heads != 0) {
            throw json.malformed("\"hidden_size\" (" + hidden + ") is not a multiple of \"num_attention_heads\" ("
                    + heads + ") and there is no \"head_dim\"");
        }
        int headDim = json.positiveIntOr("head_dim", defaults.headDim() == 0 ? hidden / heads : defaults.headDim());
        if ((long) heads * headDim > MAX_PROJECTION_WIDTH) {
            // checked before the rotary tables (head_dim / 2 entries) are built from it
            throw json.malformed("\"num_attention_heads\" × \"head_dim\" (" + heads + " × " + headDim + ") is "
                    + "larger than any model's attention (at most " + MAX_PROJECTION_WIDTH + ")");
        }
        return new LlamaStyleConfig(json.requirePositiveInt("vocab_size"), hidden,
                json.requirePositiveInt("intermediate_size"), layers(json, "num_hidden_layers"), heads,
                kvHeads, headDim, (float) json.doubleOr("rms_norm_eps", defaults.rmsNormEps()),
                json.doubleOr("rope_theta", defaults.ropeTheta()),
                json.positiveIntOr("max_position_embeddings", defaults.maxPositions()),
                json.booleanOr("tie_word_embeddings", defaults.tieWordEmbeddings()));
    }

    /** The most layers accepted: far above real models (Llama 3 405B: 126), far below a hang building them. */
    static final int MAX_LAYERS = 4096;

    /** {@code field} as a layer count, checked before per-layer settings are built from it. */
    static int layers(JsonConfig json, String field) {
        int layers = json.requirePositiveInt(field);
        if (layers > MAX_LAYERS) {
            throw json.malformed("\"" + field + "\" (" + layers + ") is more layers than any model has (at most "
                    + MAX_LAYERS + ")");
        }
        return layers;
    }

    /** The widest query projection accepted: far above real models (Llama 3 405B: 128 × 128 = 16,384). */
    static final int MAX_PROJECTION_WIDTH = 1 << 20;

    ModelConfig modelConfig(String modelName, String architecture) {
        return new ModelConfig(modelName, architecture, layers, hiddenSize, heads, keyValueHeads, headDim,
                intermediateSize, vocabularySize, maxPositions);
    }

    /** {@code head_dim^−½}, the usual attention scale. */
    float attentionScale() {
        return (float) (1.0 / Math.sqrt(headDim));
    }
}

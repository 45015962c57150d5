package org.circuittracer.backend.onnx;

import java.util.List;
import java.util.Optional;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.transformer.architecture.Architecture;
import org.circuittracer.transformer.architecture.Architectures;
import org.circuittracer.transformer.checkpoint.JsonConfig;

/**
 * The dimensions of an exported model, from its {@code config.json}: through transformer-core's reader for the
 * architectures it knows (so both backends agree on defaults), otherwise from the usual Hugging Face fields.
 */
final class OnnxModelConfig {

    private OnnxModelConfig() {
    }

    /** The first architecture {@code config.json} declares. */
    static String architecture(JsonConfig json) {
        List<String> declared = json.strings("architectures").orElseThrow(() -> json.malformed(
                "the required field \"architectures\" (e.g. [\"LlamaForCausalLM\"]) is missing"));
        if (declared.isEmpty()) {
            throw json.malformed("\"architectures\" is empty");
        }
        return Architectures.find(json).map(Architecture::name).orElse(declared.get(0));
    }

    /**
     * Per layer, how attention scores queries and keys, and the per-head norms' epsilon, for the architectures the
     * transformer core knows (QK attribution needs them beside the query and key weights); empty otherwise.
     */
    static Optional<QueryKeySettings> queryKeySettings(JsonConfig json) {
        return Architectures.find(json).map(a -> a.read(json))
                .map(c -> new QueryKeySettings(c.attentionSettings(), c.headNormEpsilon()));
    }

    /** What {@link #queryKeySettings} gives. */
    record QueryKeySettings(List<org.circuittracer.transformer.decoder.AttentionSettings> layers,
                            float headNormEpsilon) {
    }

    /** Token ids a prompt must not hold, for the architectures the transformer core knows (e.g. image tokens). */
    static java.util.Map<Integer, String> refusedTokens(JsonConfig json) {
        return Architectures.find(json).map(a -> a.read(json).refusedTokens()).orElse(java.util.Map.of());
    }

    /**
     * @throws CircuitTracerException MALFORMED_FILE naming a missing or invalid field
     */
    static ModelConfig read(JsonConfig json, String modelName) {
        Optional<Architecture> known = Architectures.find(json);
        if (known.isPresent()) {
            return known.get().read(json).modelConfig(modelName);
        }
        int width = first(json, "hidden_size", "n_embd", "d_model");
        int heads = first(json, "num_attention_heads", "n_head");
        if (!json.has("head_dim") && width % heads != 0) {
            throw json.malformed("the width (" + width + ") is not a multiple of the heads (" + heads
                    + ") and there is no \"head_dim\"");
        }
        int kvHeads = json.positiveIntOr("num_key_value_heads", heads);
        if (heads % kvHeads != 0) {
            throw json.malformed("\"num_attention_heads\" (" + heads + ") must be a multiple of "
                    + "\"num_key_value_heads\" (" + kvHeads + ")");
        }
        int mlp = json.has("intermediate_size") ? json.requirePositiveInt("intermediate_size")
                : json.positiveIntOr("n_inner", 4 * width);
        int positions = json.has("max_position_embeddings") ? json.requirePositiveInt("max_position_embeddings")
                : json.positiveIntOr("n_positions", 2048);
        return new ModelConfig(modelName, architecture(json), first(json, "num_hidden_layers", "n_layer"), width,
                heads, kvHeads, json.positiveIntOr("head_dim", width / heads), mlp, json.requirePositiveInt("vocab_size"),
                positions);
    }

    private static int first(JsonConfig json, String... fields) {
        for (String field : fields) {
            if (json.has(field)) {
                return json.requirePositiveInt(field);
            }
        }
        throw json.malformed("none of the fields " + List.of(fields) + " is present");
    }
}

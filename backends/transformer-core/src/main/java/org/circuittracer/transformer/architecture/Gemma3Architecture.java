package org.circuittracer.transformer.architecture;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.transformer.checkpoint.JsonConfig;
import org.circuittracer.transformer.checkpoint.WeightReader;
import org.circuittracer.transformer.decoder.Activation;
import org.circuittracer.transformer.decoder.AttentionSettings;
import org.circuittracer.transformer.decoder.Decoder;
import org.circuittracer.transformer.decoder.RotaryEmbedding;

/**
 * {@code Gemma3ForCausalLM} ({@code model_type} {@code gemma3_text}): Gemma 2's block (four {@code (1 + w)} RMSNorms,
 * embeddings × √d, tied, gated GELU-tanh MLP, scale {@code query_pre_attn_scalar^−½}) plus per-head
 * {@code (1 + w)} RMSNorms on queries and keys before rotation, local sliding-window layers with their own rotary base
 * ({@code rope_local_base_freq}, unscaled) and global layers with {@code rope_theta} and {@code rope_scaling}; the
 * soft-caps exist in the schema but are off in released configs.
 */
public final class Gemma3Architecture implements Architecture {

    static final String NAME = "Gemma3ForCausalLM";

    /**
     * {@code Gemma3TextConfig}'s defaults (Hugging Face): what a field left out means. Multimodal configs list only
     * what differs (their {@code text_config} of Gemma 3 4B omits the heads, for instance).
     */
    static final Map<String, Object> TEXT_DEFAULTS = Map.ofEntries(Map.entry("vocab_size", 262_208),
            Map.entry("hidden_size", 2304), Map.entry("intermediate_size", 9216),
            Map.entry("num_hidden_layers", 26), Map.entry("num_attention_heads", 8),
            Map.entry("num_key_value_heads", 4), Map.entry("head_dim", 256),
            Map.entry("max_position_embeddings", 131_072), Map.entry("rms_norm_eps", 1e-6),
            Map.entry("rope_theta", 1_000_000.0), Map.entry("rope_local_base_freq", 10_000.0),
            Map.entry("query_pre_attn_scalar", 256), Map.entry("sliding_window", 4096),
            Map.entry("sliding_window_pattern", 6), Map.entry("tie_word_embeddings", true));
    private static final LlamaStyleConfig.Defaults DEFAULTS =
            new LlamaStyleConfig.Defaults(256, 1e-6f, 1_000_000.0, 131_072, true);

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ArchitectureConfig read(JsonConfig json) {
        return readText(json, NAME, false);
    }

    /**
     * Reads a Gemma 3 text configuration (a whole {@code config.json}, or a multimodal one's {@code text_config}).
     *
     * @param multimodal whether the weights are a multimodal checkpoint's language model
     */
    static Config readText(JsonConfig raw, String architecture, boolean multimodal) {
        JsonConfig json = raw.withDefaults(TEXT_DEFAULTS);
        LlamaStyleConfig common = LlamaStyleConfig.read(json, DEFAULTS);
        int window = json.positiveIntOr("sliding_window", 0);
        List<Boolean> sliding = slidingLayers(json, common.layers());
        Activation activation = Activations.read(json, json.has("hidden_activation") ? "hidden_activation"
                : "hidden_act", Activation.GELU_TANH);
        RotaryEmbedding global;
        RotaryEmbedding local;
        Optional<JsonConfig> parameters = json.object("rope_parameters");
        if (parameters.isPresent() && parameters.get().has("full_attention")) {
            // newer configs: one rope_parameters entry per layer type, each with its own rope_theta
            global = perType(json, parameters.get(), "full_attention", common);
            local = perType(json, parameters.get(), "sliding_attention", common);
        } else {
            global = Rope.read(json, common);
            local = RotaryEmbedding.standard(json.doubleOr("rope_local_base_freq", 10_000.0), common.headDim());
        }
        return new Config(architecture, common, global, local, json.booleanOr("attention_bias", false), activation,
                (float) json.doubleOr("query_pre_attn_scalar", 256), window, List.copyOf(sliding),
                (float) json.doubleOr("attn_logit_softcapping", 0), (float) json.doubleOr("final_logit_softcapping", 0),
                multimodal);
    }

    private static RotaryEmbedding perType(JsonConfig json, JsonConfig parameters, String type,
                                           LlamaStyleConfig common) {
        JsonConfig entry = parameters.object(type).orElseThrow(() -> json.malformed("\"rope_parameters\" has "
                + "\"full_attention\" but no \"" + type + "\" entry"));
        return Rope.scaled(json, Optional.of(entry), entry.doubleOr("rope_theta", common.ropeTheta()),
                common.headDim());
    }

    /** Per layer, whether it slides: {@code layer_types}, else every {@code sliding_window_pattern}-th is global. */
    private static List<Boolean> slidingLayers(JsonConfig json, int layers) {
        List<Boolean> sliding = new ArrayList<>();
        Optional<List<String>> layerTypes = json.strings("layer_types");
        if (layerTypes.isPresent()) {
            if (layerTypes.get().size() != layers) {
                throw json.malformed("\"layer_types\" has " + layerTypes.get().size() + " entries for " + layers
                        + " layers");
            }
            for (String type : layerTypes.get()) {
                if (!type.equals("sliding_attention") && !type.equals("full_attention")) {
                    throw json.malformed("\"layer_types\" lists \"" + type + "\"; Gemma 3 layers are "
                            + "\"sliding_attention\" or \"full_attention\"");
                }
                sliding.add(type.equals("sliding_attention"));
            }
            return sliding;
        }
        int pattern = json.positiveIntOr("sliding_window_pattern", 6);
        for (int layer = 0; layer < layers; layer++) {
            sliding.add((layer + 1) % pattern != 0);
        }
        return sliding;
    }

    /**
     * A Gemma 3 text configuration.
     *
     * @param architecture       the {@code config.json} class, for names and messages
     * @param common             the shared fields
     * @param globalRotary       {@code rope_theta} with {@code rope_scaling}: the global layers'
     * @param localRotary        {@code rope_local_base_freq}, unscaled: the sliding layers'
     * @param attentionBias      {@code attention_bias}
     * @param activation         {@code hidden_activation}
     * @param queryPreAttnScalar {@code query_pre_attn_scalar}
     * @param slidingWindow      {@code sliding_window}
     * @param slidingLayers      per layer, whether it slides
     * @param attnLogitSoftcap   {@code attn_logit_softcapping}, 0 for none
     * @param finalLogitSoftcap  {@code final_logit_softcapping}, 0 for none
     * @param multimodal         whether the checkpoint holds a vision tower beside the language model
     */
    record Config(String architecture, LlamaStyleConfig common, RotaryEmbedding globalRotary,
                  RotaryEmbedding localRotary, boolean attentionBias, Activation activation, float queryPreAttnScalar,
                  int slidingWindow, List<Boolean> slidingLayers, float attnLogitSoftcap, float finalLogitSoftcap,
                  boolean multimodal)
            implements ArchitectureConfig {

        @Override
        public ModelConfig modelConfig(String modelName) {
            return common.modelConfig(modelName, architecture);
        }

        @Override
        public List<AttentionSettings> attentionSettings() {
            float scale = (float) Math.pow(queryPreAttnScalar, -0.5);
            List<AttentionSettings> settings = new ArrayList<>();
            for (int layer = 0; layer < common.layers(); layer++) {
                boolean slides = slidingLayers.get(layer);
                settings.add(new AttentionSettings(common.heads(), common.keyValueHeads(), common.headDim(), scale,
                        attnLogitSoftcap, slides ? slidingWindow : 0, Optional.of(slides ? localRotary : globalRotary)));
            }
            return settings;
        }

        @Override
        public float headNormEpsilon() {
            return common.rmsNormEps();
        }

        @Override
        public Decoder load(WeightReader weights, String modelName) {
            List<AttentionSettings> settings = attentionSettings();
            LlamaStyleWeights w = multimodal ? LlamaStyleWeights.languageModelOf(weights, common)
                    : new LlamaStyleWeights(weights, common);
            return w.gemmaDecoder(modelConfig(modelName), settings, attentionBias, true, activation,
                    finalLogitSoftcap);
        }
    }
}

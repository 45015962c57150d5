package org.circuittracer.transformer.architecture;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.transformer.checkpoint.JsonConfig;
import org.circuittracer.transformer.checkpoint.WeightReader;
import org.circuittracer.transformer.decoder.Activation;
import org.circuittracer.transformer.decoder.AttentionSettings;
import org.circuittracer.transformer.decoder.Decoder;
import org.circuittracer.transformer.decoder.RotaryEmbedding;

/**
 * {@code Gemma2ForCausalLM}: embeddings × √d, RMSNorm with gain {@code (1 + w)}, a norm before and after both
 * attention and MLP, GeGLU MLP, attention scale {@code query_pre_attn_scalar^−½}, attention-logit and final-logit
 * soft-caps, and sliding-window attention on alternate layers.
 */
public final class Gemma2Architecture implements Architecture {

    static final String NAME = "Gemma2ForCausalLM";
    private static final LlamaStyleConfig.Defaults DEFAULTS =
            new LlamaStyleConfig.Defaults(256, 1e-6f, 10000.0, 8192, true);

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ArchitectureConfig read(JsonConfig json) {
        LlamaStyleConfig common = LlamaStyleConfig.read(json, DEFAULTS);
        // absent fields take Hugging Face's defaults; null ones switch the feature off
        int window = json.declares("sliding_window") ? json.positiveIntOr("sliding_window", 0) : 4096;
        List<Boolean> sliding = new ArrayList<>();
        List<String> layerTypes = json.strings("layer_types").orElse(null);
        if (layerTypes != null && layerTypes.size() != common.layers()) {
            throw json.malformed("\"layer_types\" has " + layerTypes.size() + " entries for " + common.layers()
                    + " layers");
        }
        for (int layer = 0; layer < common.layers(); layer++) {
            // without layer_types, Gemma-2 slides on even layers (0, 2, ...), as Hugging Face's Gemma2Attention does
            sliding.add(layerTypes != null ? layerTypes.get(layer).equals("sliding_attention") : layer % 2 == 0);
        }
        // newer configs name the MLP activation hidden_activation; older ones only hidden_act
        Activation activation = Activations.read(json, json.has("hidden_activation") ? "hidden_activation"
                : "hidden_act", Activation.GELU_TANH);
        return new Config(common, Rope.read(json, common), json.booleanOr("attention_bias", false), activation,
                (float) json.doubleOr("query_pre_attn_scalar", 256), window, List.copyOf(sliding),
                softcap(json, "attn_logit_softcapping", 50), softcap(json, "final_logit_softcapping", 30));
    }

    private static float softcap(JsonConfig json, String field, float fallback) {
        return json.declares(field) ? (float) json.doubleOr(field, 0) : fallback;
    }

    /**
     * A Gemma-2 {@code config.json}.
     *
     * @param common              the shared fields
     * @param rotary              from {@code rope_theta}
     * @param attentionBias       {@code attention_bias}
     * @param activation          {@code hidden_activation}
     * @param queryPreAttnScalar  {@code query_pre_attn_scalar}
     * @param slidingWindow       {@code sliding_window}
     * @param slidingLayers       per layer, whether it uses the sliding window ({@code layer_types})
     * @param attnLogitSoftcap    {@code attn_logit_softcapping}, 0 for none
     * @param finalLogitSoftcap   {@code final_logit_softcapping}, 0 for none
     */
    record Config(LlamaStyleConfig common, RotaryEmbedding rotary, boolean attentionBias, Activation activation,
                  float queryPreAttnScalar, int slidingWindow, List<Boolean> slidingLayers, float attnLogitSoftcap,
                  float finalLogitSoftcap)
            implements ArchitectureConfig {

        @Override
        public ModelConfig modelConfig(String modelName) {
            return common.modelConfig(modelName, NAME);
        }

        @Override
        public List<AttentionSettings> attentionSettings() {
            float scale = (float) Math.pow(queryPreAttnScalar, -0.5);
            List<AttentionSettings> settings = new ArrayList<>();
            for (int layer = 0; layer < common.layers(); layer++) {
                settings.add(new AttentionSettings(common.heads(), common.keyValueHeads(), common.headDim(), scale,
                        attnLogitSoftcap, slidingLayers.get(layer) ? slidingWindow : 0, Optional.of(rotary)));
            }
            return settings;
        }

        @Override
        public Decoder load(WeightReader weights, String modelName) {
            List<AttentionSettings> settings = attentionSettings();
            return new LlamaStyleWeights(weights, common).gemmaDecoder(modelConfig(modelName), settings,
                    attentionBias, false, activation, finalLogitSoftcap);
        }
    }
}

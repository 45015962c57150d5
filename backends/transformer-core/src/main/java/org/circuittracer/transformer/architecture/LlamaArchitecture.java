package org.circuittracer.transformer.architecture;

import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.transformer.checkpoint.JsonConfig;
import org.circuittracer.transformer.checkpoint.WeightReader;
import org.circuittracer.transformer.decoder.Activation;
import org.circuittracer.transformer.decoder.AttentionSettings;
import org.circuittracer.transformer.decoder.Decoder;
import org.circuittracer.transformer.decoder.RotaryEmbedding;

/**
 * {@code LlamaForCausalLM}: RMSNorm, rotary embedding (with Llama 3.1's {@code rope_scaling}), grouped-query
 * attention, SiLU-gated MLP, untied {@code lm_head} by default.
 */
public final class LlamaArchitecture implements Architecture {

    static final String NAME = "LlamaForCausalLM";
    private static final LlamaStyleConfig.Defaults DEFAULTS =
            new LlamaStyleConfig.Defaults(0, 1e-6f, 10000.0, 2048, false);

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ArchitectureConfig read(JsonConfig json) {
        LlamaStyleConfig common = LlamaStyleConfig.read(json, DEFAULTS);
        return new Config(common, Rope.read(json, common), json.booleanOr("attention_bias", false),
                json.booleanOr("mlp_bias", false), Activations.read(json, "hidden_act", Activation.SILU));
    }

    /**
     * A Llama {@code config.json}.
     *
     * @param common        the shared fields
     * @param rotary        from {@code rope_theta} and {@code rope_scaling}
     * @param attentionBias {@code attention_bias}
     * @param mlpBias       {@code mlp_bias}
     * @param activation    {@code hidden_act}
     */
    record Config(LlamaStyleConfig common, RotaryEmbedding rotary, boolean attentionBias, boolean mlpBias,
                  Activation activation) implements ArchitectureConfig {

        @Override
        public ModelConfig modelConfig(String modelName) {
            return common.modelConfig(modelName, NAME);
        }

        @Override
        public java.util.List<AttentionSettings> attentionSettings() {
            return java.util.Collections.nCopies(common.layers(), LlamaStyleWeights.singleNormSettings(common, rotary));
        }

        @Override
        public Decoder load(WeightReader weights, String modelName) {
            return new LlamaStyleWeights(weights, common).singleNormDecoder(modelConfig(modelName), rotary,
                    attentionBias, false, activation, mlpBias);
        }
    }
}

package org.circuittracer.transformer.architecture;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.transformer.checkpoint.JsonConfig;
import org.circuittracer.transformer.checkpoint.WeightReader;
import org.circuittracer.transformer.decoder.Activation;
import org.circuittracer.transformer.decoder.AttentionSettings;
import org.circuittracer.transformer.decoder.Decoder;
import org.circuittracer.transformer.decoder.RotaryEmbedding;

/**
 * {@code Qwen3ForCausalLM}: as Llama, plus a per-head RMSNorm on queries and keys ({@code q_norm}, {@code k_norm})
 * before rotation, and a {@code head_dim} independent of the hidden size.
 */
public final class Qwen3Architecture implements Architecture {

    static final String NAME = "Qwen3ForCausalLM";
    private static final LlamaStyleConfig.Defaults DEFAULTS =
            new LlamaStyleConfig.Defaults(128, 1e-6f, 10000.0, 32768, false);

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ArchitectureConfig read(JsonConfig json) {
        if (json.booleanOr("use_sliding_window", false)) {
            throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, json.file()
                    + ": \"use_sliding_window\": true is not implemented by circuit-tracer for " + NAME + ".");
        }
        LlamaStyleConfig common = LlamaStyleConfig.read(json, DEFAULTS);
        return new Config(common, Rope.read(json, common), json.booleanOr("attention_bias", false),
                Activations.read(json, "hidden_act", Activation.SILU));
    }

    /**
     * A Qwen-3 {@code config.json}.
     *
     * @param common        the shared fields
     * @param rotary        from {@code rope_theta} and {@code rope_scaling}
     * @param attentionBias {@code attention_bias}
     * @param activation    {@code hidden_act}
     */
    record Config(LlamaStyleConfig common, RotaryEmbedding rotary, boolean attentionBias, Activation activation)
            implements ArchitectureConfig {

        @Override
        public ModelConfig modelConfig(String modelName) {
            return common.modelConfig(modelName, NAME);
        }

        @Override
        public java.util.List<AttentionSettings> attentionSettings() {
            return java.util.Collections.nCopies(common.layers(), LlamaStyleWeights.singleNormSettings(common, rotary));
        }

        @Override
        public float headNormEpsilon() {
            return common.rmsNormEps();
        }

        @Override
        public Decoder load(WeightReader weights, String modelName) {
            return new LlamaStyleWeights(weights, common).singleNormDecoder(modelConfig(modelName), rotary,
                    attentionBias, true, activation, false);
        }
    }
}

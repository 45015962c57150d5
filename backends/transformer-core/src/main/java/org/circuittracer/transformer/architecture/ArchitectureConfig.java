package org.circuittracer.transformer.architecture;

import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.transformer.checkpoint.WeightReader;
import org.circuittracer.transformer.decoder.Decoder;

/** An architecture's parsed {@code config.json}: what it says, and how to load matching weights. */
public interface ArchitectureConfig {

    /** The dimensions, for a model called {@code modelName}. */
    ModelConfig modelConfig(String modelName);

    /**
     * Reads the weights into a decoder.
     *
     * @throws org.circuittracer.spi.CircuitTracerException MALFORMED_FILE naming a missing or misshaped tensor
     */
    Decoder load(WeightReader weights, String modelName);

    /**
     * Token ids a prompt must not hold, each with what it is and what to do instead (e.g. a multimodal model's image
     * placeholder, which only an image's embeddings give meaning).
     */
    /**
     * Per layer, how attention turns queries and keys into scores (heads, scale, soft-cap, window, rotation): what a
     * backend that does not build a {@link Decoder} (ONNX) needs beside the query and key weights for QK attribution.
     */
    java.util.List<org.circuittracer.transformer.decoder.AttentionSettings> attentionSettings();

    /** The epsilon of the per-head query and key norms (RMSNorm), where the architecture has them. */
    default float headNormEpsilon() {
        return 1e-6f;
    }

    default java.util.Map<Integer, String> refusedTokens() {
        return java.util.Map.of();
    }
}

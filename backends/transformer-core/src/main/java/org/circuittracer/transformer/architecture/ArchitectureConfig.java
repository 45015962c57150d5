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
    default java.util.Map<Integer, String> refusedTokens() {
        return java.util.Map.of();
    }
}

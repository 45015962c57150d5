package org.circuittracer.transformer.architecture;

import java.util.Optional;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.transformer.checkpoint.JsonConfig;
import org.circuittracer.transformer.decoder.RotaryEmbedding;

/** Reads {@code rope_scaling} from {@code config.json}. */
final class Rope {

    private Rope() {
    }

    /** The rotary embedding of a Llama-style config: {@code rope_theta}, then {@code rope_scaling} if present. */
    static RotaryEmbedding read(JsonConfig json, LlamaStyleConfig common) {
        RotaryEmbedding standard = RotaryEmbedding.standard(common.ropeTheta(), common.headDim());
        Optional<JsonConfig> scaling = json.object("rope_scaling");
        if (scaling.isEmpty()) {
            return standard;
        }
        JsonConfig s = scaling.get();
        // older configs spell the key "type"
        String type = s.string("rope_type").or(() -> s.string("type")).orElse("default");
        return switch (type) {
            case "default" -> standard;
            case "llama3" -> standard.llama3Scaled((float) s.requireDouble("factor"),
                    (float) s.requireDouble("low_freq_factor"), (float) s.requireDouble("high_freq_factor"),
                    s.requirePositiveInt("original_max_position_embeddings"));
            default -> throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, json.file()
                    + ": rope_scaling type \"" + type + "\" is not implemented by the djl backend. Supported: "
                    + "default, llama3.");
        };
    }
}

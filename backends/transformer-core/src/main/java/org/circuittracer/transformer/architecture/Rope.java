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
        return scaled(json, json.object("rope_scaling"), common.ropeTheta(), common.headDim());
    }

    /**
     * The rotary embedding of base {@code theta}, scaled as {@code scaling} (a {@code rope_scaling} object, or one
     * entry of {@code rope_parameters}) says.
     */
    static RotaryEmbedding scaled(JsonConfig json, Optional<JsonConfig> scaling, double theta, int headDim) {
        RotaryEmbedding standard = RotaryEmbedding.standard(theta, headDim);
        if (scaling.isEmpty()) {
            return standard;
        }
        JsonConfig s = scaling.get();
        // older configs spell the key "type"
        String type = s.string("rope_type").or(() -> s.string("type")).orElse("default");
        return switch (type) {
            case "default" -> standard;
            case "linear" -> standard.linearScaled(positiveFactor(s));
            case "llama3" -> standard.llama3Scaled((float) s.requireDouble("factor"),
                    (float) s.requireDouble("low_freq_factor"), (float) s.requireDouble("high_freq_factor"),
                    s.requirePositiveInt("original_max_position_embeddings"));
            default -> throw new CircuitTracerException(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, json.file()
                    + ": rope_scaling type \"" + type + "\" is not implemented by circuit-tracer. Supported: "
                    + "default, linear, llama3.");
        };
    }

    private static float positiveFactor(JsonConfig s) {
        double factor = s.requireDouble("factor");
        if (!(factor > 0) || Double.isInfinite(factor)) {
            throw s.malformed("the rope scaling's \"factor\" must be a positive number, but it is " + factor);
        }
        return (float) factor;
    }
}

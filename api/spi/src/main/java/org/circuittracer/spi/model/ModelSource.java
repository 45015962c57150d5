package org.circuittracer.spi.model;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * Where and how to open a model.
 *
 * @param directory a model directory, e.g. in Hugging Face layout ({@code config.json}, {@code *.safetensors},
 *                  {@code tokenizer.json})
 * @param precision the precision to compute in
 * @param device    a device name such as {@code cpu} or {@code gpu:0}; {@code "auto"} lets the backend choose
 * @param options   backend-specific settings (documented by each backend); copied
 */
public record ModelSource(Path directory, Precision precision, String device, Map<String, String> options) {

    public ModelSource {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(device, "device");
        options = Map.copyOf(options);
    }

    /** A directory opened in float32 on the backend's default device with no options. */
    public static ModelSource of(Path directory) {
        return new ModelSource(directory, Precision.FLOAT32, "auto", Map.of());
    }
}

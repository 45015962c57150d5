package org.circuittracer.transcoders.common;

import java.util.Arrays;
import java.util.Optional;

/** The {@code model_kind} of a reference {@code config.yaml}: which layout the directory holds. */
public enum ModelKind {
    /** Per-layer transcoders: {@code layer_{i}.safetensors} (or the files listed under {@code transcoders}). */
    TRANSCODER_SET("transcoder_set", "reference-plt"),
    /** A cross-layer transcoder: {@code W_enc_{i}.safetensors} and {@code W_dec_{i}.safetensors}. */
    CROSS_LAYER_TRANSCODER("cross_layer_transcoder", "reference-clt");

    private final String yamlName;
    private final String formatName;

    ModelKind(String yamlName, String formatName) {
        this.yamlName = yamlName;
        this.formatName = formatName;
    }

    /** As written in {@code config.yaml}. */
    public String yamlName() {
        return yamlName;
    }

    /** The provider that reads this kind. */
    public String formatName() {
        return formatName;
    }

    public static Optional<ModelKind> fromYamlName(String name) {
        return Arrays.stream(values()).filter(k -> k.yamlName.equals(name)).findFirst();
    }
}

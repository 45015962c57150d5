package org.circuittracer.cli;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Consumer;

import org.circuittracer.spi.model.Precision;

/**
 * A model, its transcoders and how to open them, as plain values: what a batch job ships to its workers, each of
 * which opens the model once ({@link #open}). Paths are strings (a {@link Path} is not serializable) and must name the
 * same files on every machine.
 *
 * @param model            the model directory
 * @param transcoders      the transcoder directory
 * @param demo             whether these are the embedded demo's
 * @param transcoderLabel  how the user named the transcoders (for messages)
 * @param backend          backend provider name, or null to choose as {@code --backend} does
 * @param dictionaryFormat dictionary format name, or null to detect
 * @param topk             {@code --topk}, or null
 * @param plugins          plugin directory, or null
 * @param attributor        attributor provider name
 * @param attributorOptions its settings ({@code --attributor-option NAME=VALUE})
 */
public record ModelSpec(String model, String transcoders, boolean demo, String transcoderLabel, String backend,
                        String dictionaryFormat, Precision precision, Integer topk, String plugins, String attributor,
                        Map<String, String> attributorOptions)
        implements Serializable {

    public ModelSpec {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(transcoders, "transcoders");
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(attributor, "attributor");
        // a TreeMap: serialisable to Spark's executors, unlike Map.copyOf's
        attributorOptions = new TreeMap<>(Objects.requireNonNull(attributorOptions, "attributorOptions"));
    }

    /** With the attributor's default settings. */
    public ModelSpec(String model, String transcoders, boolean demo, String transcoderLabel, String backend,
                     String dictionaryFormat, Precision precision, Integer topk, String plugins, String attributor) {
        this(model, transcoders, demo, transcoderLabel, backend, dictionaryFormat, precision, topk, plugins, attributor,
                Map.of());
    }

    @Override
    public Map<String, String> attributorOptions() {
        return java.util.Collections.unmodifiableMap(attributorOptions);
    }

    /** What the command's options resolved to. */
    static ModelSpec of(ModelOptions options, ModelOptions.Resolved resolved, String attributor,
                        Map<String, String> attributorOptions) {
        return of(options.load, resolved, attributor, attributorOptions);
    }

    /** What {@code load} and the directories {@code resolved} names come to (features, whose model is required). */
    static ModelSpec of(LoadOptions options, ModelOptions.Resolved resolved, String attributor,
                        Map<String, String> attributorOptions) {
        Path plugins = options.pluginDirectory();
        return new ModelSpec(resolved.model().toAbsolutePath().toString(),
                resolved.transcoders().toAbsolutePath().toString(), resolved.demo(), resolved.transcoderLabel(),
                options.backend, options.dictionaryFormat, resolved.precision(), options.topk,
                plugins == null ? null : plugins.toAbsolutePath().toString(), attributor, attributorOptions);
    }

    /** Opens the model, its transcoders and the attributor through the class-path registry; close it when done. */
    public OpenedModel open(Consumer<String> note) {
        return OpenedModel.open(this, note);
    }

    ModelOptions.Resolved resolved() {
        return new ModelOptions.Resolved(Path.of(model), Path.of(transcoders), demo, precision, transcoderLabel);
    }

    Path pluginDirectory() {
        return plugins == null ? null : Path.of(plugins);
    }
}

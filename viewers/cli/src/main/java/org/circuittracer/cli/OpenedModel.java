package org.circuittracer.cli;

import java.util.function.Consumer;

import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.spi.attribution.Attributor;
import org.circuittracer.spi.attribution.AttributorOptions;
import org.circuittracer.spi.model.TransformerModel;

/** A {@link ModelSpec} opened: its registry, model, transcoders and attributor, and the pipeline over them. */
public final class OpenedModel implements AutoCloseable {

    private final Registries.Registry registry;
    private final LoadedModel loaded;
    private final PromptAttribution pipeline;

    private OpenedModel(Registries.Registry registry, LoadedModel loaded, PromptAttribution pipeline) {
        this.registry = registry;
        this.loaded = loaded;
        this.pipeline = pipeline;
    }

    static OpenedModel open(ModelSpec spec, Consumer<String> note) {
        Registries.Registry registry = Registries.open(spec.pluginDirectory());
        try {
            Attributor attributor = registry.get(ProviderKind.ATTRIBUTOR, spec.attributor()).create(
                    new AttributorOptions(spec.attributor(), spec.attributorOptions()));
            LoadedModel loaded = LoadedModel.open(registry, spec.backend(), spec.dictionaryFormat(),
                    () -> LoadOptions.dictionarySource(spec.resolved().transcoders(), spec.topk()), spec.resolved(),
                    note);
            return new OpenedModel(registry, loaded, new PromptAttribution(loaded.model, loaded.dictionary,
                    attributor));
        } catch (RuntimeException | Error e) {
            registry.close();
            throw e;
        }
    }

    /** The one-prompt pipeline on this model. */
    public PromptAttribution pipeline() {
        return pipeline;
    }

    public TransformerModel model() {
        return loaded.model;
    }

    /** The transcoders (what dashboards jobs need beside the model). */
    public org.circuittracer.spi.dictionary.SparseDictionary dictionary() {
        return loaded.dictionary;
    }

    @Override
    public void close() {
        try {
            loaded.close();
        } finally {
            registry.close();
        }
    }
}

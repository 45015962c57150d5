package org.circuittracer.cli;

import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.runtime.ProviderRegistry;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TransformerModel;

/** A model and its transcoders opened through the registry's providers; closing releases both. */
final class LoadedModel implements AutoCloseable {

    final TransformerModel model;
    final SparseDictionary dictionary;
    final String formatName;
    final double modelSeconds;
    final double dictionarySeconds;

    private LoadedModel(TransformerModel model, SparseDictionary dictionary, String formatName, double modelSeconds,
                        double dictionarySeconds) {
        this.model = model;
        this.dictionary = dictionary;
        this.formatName = formatName;
        this.modelSeconds = modelSeconds;
        this.dictionarySeconds = dictionarySeconds;
    }

    /** Opens {@code resolved} with {@code options}' backend and dictionary format, telling {@code note} each step. */
    static LoadedModel open(Registries.Registry registry, ModelOptions options, ModelOptions.Resolved resolved,
                            Consumer<String> note) {
        return open(registry, options.load.backend, options.load.dictionaryFormat,
                () -> options.dictionarySource(resolved.transcoders()), resolved, note);
    }

    /**
     * Opens {@code resolved} with the backend and dictionary format named (null: chosen as for the options), the
     * dictionary from {@code source}.
     */
    static LoadedModel open(ProviderRegistry registry, String backendName, String formatName,
                            Supplier<DictionarySource> source, ModelOptions.Resolved resolved, Consumer<String> note) {
        BackendChoice.Choice choice = BackendChoice.choose(registry, backendName, resolved.model());
        BackendProvider backend = choice.provider();
        if (choice.reason() != null) {
            note.accept(choice.reason());
        }
        DictionaryFormatProvider format = formatName != null
                ? registry.get(ProviderKind.DICTIONARY_FORMAT, formatName)
                : AttributeCommand.detectFormat(registry.all(ProviderKind.DICTIONARY_FORMAT), resolved.transcoders());
        note.accept("Loading model " + (resolved.demo() ? "(embedded demo) " : "") + resolved.model() + " ("
                + backend.name() + ", " + resolved.precision().name().toLowerCase(java.util.Locale.ROOT) + ")");
        long t = System.nanoTime();
        TransformerModel model = backend.create(new ModelSource(resolved.model(), resolved.precision(), "auto",
                Map.of()));
        double modelSeconds = (System.nanoTime() - t) / 1e9;
        try {
            note.accept("Loading transcoders " + resolved.transcoders() + " (" + format.name() + ")");
            t = System.nanoTime();
            SparseDictionary dictionary = format.create(source.get());
            return new LoadedModel(model, dictionary, format.name(), modelSeconds, (System.nanoTime() - t) / 1e9);
        } catch (RuntimeException | Error e) {
            model.close();
            throw e;
        }
    }

    @Override
    public void close() {
        try {
            dictionary.close();
        } finally {
            model.close();
        }
    }
}

package org.circuittracer.spi.dictionary;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * Where and how to read a dictionary.
 *
 * @param directory    the dictionary directory (e.g. with {@code config.yaml} and {@code layer_0.safetensors} ...)
 * @param lazyEncoder  gather encoder rows from disk on demand instead of loading them
 * @param lazyDecoder  gather decoder rows from disk on demand (the default: the full decoder is never loaded)
 * @param options      format-specific settings; copied
 */
public record DictionarySource(Path directory, boolean lazyEncoder, boolean lazyDecoder, Map<String, String> options) {

    public DictionarySource {
        Objects.requireNonNull(directory, "directory");
        options = Map.copyOf(options);
    }

    /** Eager encoder, lazy decoder, no options: the reference's defaults. */
    public static DictionarySource of(Path directory) {
        return new DictionarySource(directory, false, true, Map.of());
    }
}

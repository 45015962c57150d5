package org.circuittracer.runtime;

import java.util.List;
import java.util.Objects;
import org.circuittracer.spi.Provider;
import org.circuittracer.spi.attribution.AttributorProvider;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.model.BackendProvider;

/**
 * One extension point: its provider interface and the word users see for it.
 *
 * @param type  the provider interface
 * @param label e.g. {@code backend}
 */
public record ProviderKind<P extends Provider>(Class<P> type, String label) {

    public static final ProviderKind<BackendProvider> BACKEND = new ProviderKind<>(BackendProvider.class, "backend");
    public static final ProviderKind<DictionaryFormatProvider> DICTIONARY_FORMAT =
            new ProviderKind<>(DictionaryFormatProvider.class, "dictionary format");
    public static final ProviderKind<AttributorProvider> ATTRIBUTOR =
            new ProviderKind<>(AttributorProvider.class, "attributor");

    /** Every extension point, in the order listings show them. */
    public static final List<ProviderKind<?>> ALL = List.of(BACKEND, DICTIONARY_FORMAT, ATTRIBUTOR);

    public ProviderKind {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(label, "label");
    }
}

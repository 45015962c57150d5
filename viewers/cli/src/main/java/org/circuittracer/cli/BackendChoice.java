package org.circuittracer.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.circuittracer.runtime.ProviderChoice;
import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.runtime.ProviderRegistry;
import org.circuittracer.spi.model.BackendProvider;

/**
 * The backend that opens a model directory when {@code --backend} is not given: the installed backend most sure of
 * the directory ({@link BackendProvider#recognize}, ranked by the runtime's {@link ProviderChoice}); among equally
 * sure ones the default backend, with the choice explained. When no backend recognises the directory, the default
 * backend opens it anyway so that its own error says what is wrong (an unsupported architecture, a missing file).
 */
final class BackendChoice {

    /** The default backend. */
    static final String DEFAULT = "djl";

    private static final ProviderChoice<BackendProvider> CHOICE =
            new ProviderChoice<>(ProviderKind.BACKEND, "--backend", Optional.of(DEFAULT));

    /** The chosen provider, and why when that is worth saying (null otherwise). */
    record Choice(BackendProvider provider, String reason) {
    }

    private BackendChoice() {
    }

    /**
     * The backend named {@code requested}, or (null) the one chosen for {@code model} as the class comment says.
     *
     * @throws org.circuittracer.spi.CircuitTracerException PROVIDER_NOT_FOUND for an unknown name; INVALID_ARGUMENT
     *         when no backend is installed, or several are equally sure and none is the default
     */
    static Choice choose(ProviderRegistry registry, String requested, Path model) {
        if (requested != null) {
            return new Choice(registry.get(ProviderKind.BACKEND, requested), null);
        }
        List<BackendProvider> installed = registry.all(ProviderKind.BACKEND);
        boolean anyRecognises = CHOICE.answers(installed, model).stream().anyMatch(a -> a.recognition().matches());
        if (!anyRecognises) {
            Optional<BackendProvider> fallback = installed.stream().filter(b -> b.name().equals(DEFAULT)).findFirst();
            if (fallback.isPresent()) {
                return new Choice(fallback.get(), null);
            }
        }
        ProviderChoice.Chosen<BackendProvider> chosen = CHOICE.choose(installed, model);
        return new Choice(chosen.provider(), chosen.note().orElse(null));
    }
}

package org.circuittracer.runtime;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Provider;
import org.circuittracer.spi.StandardErrorCode;

/**
 * The providers available to this process, by extension point and name. Implementations: the class path registry
 * (ServiceLoader, with a plugins directory) and the OSGi one (Equinox service registry). Thread-safe.
 */
public interface ProviderRegistry {

    /** The providers of one kind, sorted by name. */
    <P extends Provider> List<P> all(ProviderKind<P> kind);

    /** Every provider of every kind, for listings (kind order, then name). */
    List<ProviderInfo> describe();

    /** The provider of {@code kind} called {@code name}, if present. */
    default <P extends Provider> Optional<P> find(ProviderKind<P> kind, String name) {
        return all(kind).stream().filter(p -> p.name().equals(name)).findFirst();
    }

    /**
     * The provider of {@code kind} called {@code name}.
     *
     * @throws CircuitTracerException PROVIDER_NOT_FOUND listing the available names
     */
    default <P extends Provider> P get(ProviderKind<P> kind, String name) {
        return find(kind, name).orElseThrow(() -> notFound(kind, name, all(kind)));
    }

    /** The standard "not found" error: names what exists and how to add more. */
    static CircuitTracerException notFound(ProviderKind<?> kind, String name, List<? extends Provider> available) {
        String names = available.isEmpty() ? "none is installed"
                : "available: " + available.stream().map(Provider::name).collect(Collectors.joining(", "));
        return new CircuitTracerException(StandardErrorCode.PROVIDER_NOT_FOUND, "No " + kind.label() + " named '"
                + name + "' (" + names + "). Check the spelling, or put the plugin's jar into the plugins directory "
                + "('circuit-tracer plugins' lists what is installed).");
    }
}

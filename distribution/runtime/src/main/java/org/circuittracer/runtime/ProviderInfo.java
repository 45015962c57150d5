package org.circuittracer.runtime;

import java.util.Objects;

/**
 * A provider as listings show it.
 *
 * @param kind        the extension point's label, e.g. {@code backend}
 * @param name        the provider's name
 * @param description its one-line description
 * @param origin      where it came from, e.g. {@code class path}, {@code plugins/foo.jar}, {@code bundle org.x 1.0.0}
 * @param className   the implementing class
 */
public record ProviderInfo(String kind, String name, String description, String origin, String className) {

    public ProviderInfo {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(origin, "origin");
        Objects.requireNonNull(className, "className");
    }
}

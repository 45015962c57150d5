package org.circuittracer.runtime.osgi;

import java.util.Objects;

/**
 * Something wrong with one plugin that did not stop the others: a jar that is not a bundle, a bundle with an
 * unresolved import, a provider class that cannot be instantiated, two providers with the same name.
 *
 * @param source  what it is about: a jar path, or {@code bundle <symbolic name> <version>}
 * @param message what went wrong and how to fix it
 */
public record PluginProblem(String source, String message) {

    public PluginProblem {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        return source + ": " + message;
    }
}

package org.circuittracer.transformer.linear;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * A value computed on first use, once, thread-safely: what a linearised model needs only for some analyses (e.g. the
 * clean block inputs of QK attribution, a second forward pass) is not computed for every linearisation.
 */
public final class Once {

    private Once() {
    }

    /** {@code compute}'s value, asked for at most once (a null value is an error). */
    public static <T> Supplier<T> of(Supplier<T> compute) {
        Objects.requireNonNull(compute, "compute");
        return new Supplier<>() {
            private T value;

            @Override
            public synchronized T get() {
                if (value == null) {
                    value = Objects.requireNonNull(compute.get(), "the computed value");
                }
                return value;
            }
        };
    }
}

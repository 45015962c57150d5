package org.circuittracer.spi.dictionary;

import java.util.Objects;
import org.circuittracer.spi.CircuitTracerException;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The nonlinearity from pre-activations {@code h} to activations {@code a} (docs/reference/algorithm.md §2.2). A feature is active
 * iff its activation is non-zero.
 */
@ProviderType
public sealed interface ActivationFunction {

    /** {@code max(h, 0)}. */
    record Relu() implements ActivationFunction {
    }

    /** {@code h} if {@code h > θ_f} (strictly), else 0, with a per-feature threshold held by the dictionary. */
    record JumpRelu() implements ActivationFunction {
    }

    /** Per position, the {@code k} largest pre-activations unchanged (negatives included), the rest 0. */
    record TopK(int k) implements ActivationFunction {
        public TopK {
            if (k < 1) {
                throw CircuitTracerException.invalidArgument("TopK needs k >= 1, got " + k);
            }
        }
    }

    /** Any other encoding rule (e.g. matching pursuit), described by name. */
    record Other(String name) implements ActivationFunction {
        public Other {
            Objects.requireNonNull(name, "name");
        }
    }
}

package org.circuittracer.spi;

import java.util.Set;
import java.util.stream.Collectors;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A typed capability a provider declares up front, e.g. a backend's {@code VJP}. Implemented by the capability
 * enums of each extension point ({@link org.circuittracer.spi.model.BackendCapability},
 * {@link org.circuittracer.spi.dictionary.DictionaryCapability}).
 */
@ConsumerType
public interface Capability {

    /** The capability's name as users see it, e.g. {@code VJP}. */
    String name();

    /** One line saying what the capability allows. */
    String meaning();

    /**
     * Fails up front, with the one standard message, when {@code declared} lacks {@code needed}.
     *
     * @param kind     what declares the capabilities, e.g. {@code "backend"}
     * @param provider the provider's name, e.g. {@code "onnx"}
     * @param purpose  what needs the capability, e.g. {@code "attribution"}
     * @throws CircuitTracerException with {@link StandardErrorCode#MISSING_CAPABILITY}
     */
    static <C extends Enum<C> & Capability> void require(
            String kind, String provider, Set<C> declared, C needed, String purpose) {
        if (!declared.contains(needed)) {
            throw new CircuitTracerException(StandardErrorCode.MISSING_CAPABILITY,
                    missingMessage(kind, provider, needed, purpose) + " It declares: "
                            + (declared.isEmpty() ? "nothing" : declared.stream().map(Enum::name).sorted()
                            .collect(Collectors.joining(", "))) + ". Choose a " + kind + " that supports "
                            + needed.name() + " (see 'circuit-tracer plugins').");
        }
    }

    /** The standard first sentence: {@code backend 'onnx' does not support VJP (needed for attribution).} */
    static String missingMessage(String kind, String provider, Capability needed, String purpose) {
        return kind + " '" + provider + "' does not support " + needed.name()
                + " (" + needed.meaning() + "; needed for " + purpose + ").";
    }
}

package org.circuittracer.spi;

import java.util.regex.Pattern;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Common shape of every extension point: a stateless, cheap factory identified by a short name.
 *
 * <p>Implementations need a public no-argument constructor (they are instantiated by
 * {@link java.util.ServiceLoader} or by the OSGi registrar) and must not load native libraries or read files
 * before {@code create(...)} is called.
 */
@ConsumerType
public interface Provider {

    /** Names are lowercase letters, digits and single hyphens, starting with a letter, at most 40 characters. */
    Pattern NAME_PATTERN = Pattern.compile("[a-z][a-z0-9]*(-[a-z0-9]+)*");

    /** The name users type to select this provider, e.g. {@code djl} or {@code exact}; see {@link #NAME_PATTERN}. */
    String name();

    /** One line for listings such as {@code circuit-tracer plugins}. */
    default String description() {
        return "";
    }

    /**
     * Checks a provider name and returns it.
     *
     * @throws CircuitTracerException with {@link StandardErrorCode#INVALID_PROVIDER} if it does not match
     *         {@link #NAME_PATTERN}
     */
    static String requireValidName(String name, Class<?> providerClass) {
        if (name == null || name.length() > 40 || !NAME_PATTERN.matcher(name).matches()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_PROVIDER,
                    "Provider " + providerClass.getName() + " has the invalid name '" + name + "'. Use lowercase "
                            + "letters, digits and single hyphens, starting with a letter, at most 40 characters "
                            + "(e.g. 'djl', 'plt-safetensors').");
        }
        return name;
    }
}

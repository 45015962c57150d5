package org.circuittracer.spi.attribution;

import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import org.circuittracer.spi.CircuitTracerException;

/**
 * What an attributor is created with (as {@link org.circuittracer.spi.model.ModelSource} and
 * {@link org.circuittracer.spi.dictionary.DictionarySource} are for the other providers): the provider's own settings
 * by name, as the user gave them (e.g. {@code circuit-tracer attribute --attributor-option rank=64}), with typed reads
 * whose errors name the attributor, the setting and the accepted values. Everything that varies per graph (targets,
 * feature budget, batch size) is on the {@link AttributionRequest} instead.
 *
 * @param attributor the provider's name, for messages
 * @param values     setting name to its text
 */
public record AttributorOptions(String attributor, Map<String, String> values) {

    public AttributorOptions {
        if (attributor == null || attributor.isBlank()) {
            throw CircuitTracerException.invalidArgument("AttributorOptions needs the attributor's name.");
        }
        if (values == null) {
            throw CircuitTracerException.invalidArgument("AttributorOptions needs its values (an empty map for none).");
        }
        values = Map.copyOf(values);
    }

    /** No settings: the attributor's defaults. */
    public static AttributorOptions none(String attributor) {
        return new AttributorOptions(attributor, Map.of());
    }

    /** Whether no setting was given. */
    public boolean isEmpty() {
        return values.isEmpty();
    }

    /**
     * Refuses names the attributor does not know, all of them in one message (so that one run shows every typo).
     *
     * @throws CircuitTracerException INVALID_ARGUMENT naming the unknown settings and the known ones
     */
    public void requireOnly(Set<String> known) {
        Set<String> unknown = new TreeSet<>(values.keySet());
        unknown.removeAll(known);
        if (!unknown.isEmpty()) {
            throw CircuitTracerException.invalidArgument("The " + attributor + " attributor has no setting "
                    + String.join(", ", unknown) + "; " + (known.isEmpty() ? "it takes none"
                    : "it takes " + String.join(", ", new TreeSet<>(known))) + ".");
        }
    }

    /** A setting's text, if given. */
    public Optional<String> text(String name) {
        return Optional.ofNullable(values.get(name));
    }

    /**
     * An integer setting in {@code [min, max]}, if given.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT when it is not an integer in that range
     */
    public OptionalInt integer(String name, int min, int max) {
        String text = values.get(name);
        if (text == null) {
            return OptionalInt.empty();
        }
        try {
            int value = Integer.parseInt(text.strip());
            if (value >= min && value <= max) {
                return OptionalInt.of(value);
            }
        } catch (NumberFormatException e) {
            // reported below with the range
        }
        throw invalid(name, text, "an integer from " + min + " to " + max);
    }

    /**
     * A number setting in {@code [min, max]}, if given.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT when it is not a finite number in that range
     */
    public OptionalDouble number(String name, double min, double max) {
        String text = values.get(name);
        if (text == null) {
            return OptionalDouble.empty();
        }
        try {
            double value = Double.parseDouble(text.strip());
            if (value >= min && value <= max) {
                return OptionalDouble.of(value);
            }
        } catch (NumberFormatException e) {
            // reported below with the range
        }
        throw invalid(name, text, "a number from " + min + " to " + max);
    }

    /**
     * A yes/no setting ({@code true} or {@code false}, any case), if given.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT for any other text
     */
    public Optional<Boolean> flag(String name) {
        String text = values.get(name);
        if (text == null) {
            return Optional.empty();
        }
        return switch (text.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "true" -> Optional.of(true);
            case "false" -> Optional.of(false);
            default -> throw invalid(name, text, "true or false");
        };
    }

    private CircuitTracerException invalid(String name, String text, String expected) {
        return CircuitTracerException.invalidArgument("The " + attributor + " attributor's setting " + name + " is \""
                + text + "\"; give " + expected + ".");
    }
}

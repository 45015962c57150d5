package org.circuittracer.transcoders.reference;

import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.DictionarySource;

/**
 * The {@link DictionarySource} options of the reference formats.
 *
 * <ul>
 *   <li>{@value #TOPK}: {@code k} of a TopK set whose {@code config.yaml} says {@code activation: topk} without
 *       {@code k} (the CLI's {@code --topk K}); when the config or the files give k as well, they must agree.</li>
 * </ul>
 *
 * @param topK the {@value #TOPK} option
 */
public record ReferenceOptions(OptionalInt topK) {

    /** The option key for TopK's k: {@code Map.of("topk", "128")}. */
    public static final String TOPK = "topk";
    private static final Set<String> ALL = Set.of(TOPK);

    /**
     * Reads the options of {@code source}.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT for an unknown option or a k that is not a whole number >= 1
     */
    public static ReferenceOptions of(DictionarySource source, String format) {
        Map<String, String> options = source.options();
        Set<String> unknown = new TreeSet<>(options.keySet());
        unknown.removeAll(ALL);
        if (!unknown.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Unknown option"
                    + (unknown.size() == 1 ? " " : "s ") + unknown + " for the " + format + " format; it takes only "
                    + TOPK + " (k of a TopK set whose config.yaml has no k; --topk K).");
        }
        String k = options.get(TOPK);
        if (k == null) {
            return new ReferenceOptions(OptionalInt.empty());
        }
        int value;
        try {
            value = Integer.parseInt(k.trim());
        } catch (NumberFormatException e) {
            value = 0;
        }
        if (value < 1) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Option " + TOPK + "=" + k
                    + " (--topk) must be a whole number >= 1: the number of features TopK keeps per position.");
        }
        return new ReferenceOptions(OptionalInt.of(value));
    }
}

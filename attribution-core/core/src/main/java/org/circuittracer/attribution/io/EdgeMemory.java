package org.circuittracer.attribution.io;

import java.nio.file.Path;
import java.util.Locale;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * How many bytes of edges an attribution keeps on the heap before it writes them to disk, and where. Every feature of
 * a 64-token prompt is ~650 million edges (5 GB); the rows computed so far and the assembled matrix then live in
 * temporary files, read back in blocks, so memory stays bounded whatever the graph's size.
 *
 * <p>{@link #budgetBytes()} bounds the computed rows held on the heap and decides whether an assembled or loaded
 * matrix stays in memory. Budget: the system property {@value #BUDGET_PROPERTY} (bytes, with an optional {@code k}, {@code m} or {@code g}
 * suffix), else a quarter of the maximum heap. Directory: {@value #DIRECTORY_PROPERTY}, else {@code java.io.tmpdir}.
 */
public record EdgeMemory(long budgetBytes, Path directory) {

    public static final String BUDGET_PROPERTY = "circuittracer.edges.memory";
    public static final String DIRECTORY_PROPERTY = "circuittracer.edges.dir";

    /** The settings of this JVM. */
    public static EdgeMemory fromSystem() {
        String budget = System.getProperty(BUDGET_PROPERTY);
        String directory = System.getProperty(DIRECTORY_PROPERTY, System.getProperty("java.io.tmpdir"));
        long bytes = budget == null || budget.isBlank() ? Runtime.getRuntime().maxMemory() / 4 : parseBytes(budget);
        // the directory is only used (and a missing one reported, by the writer) once edges outgrow the budget
        return new EdgeMemory(bytes, Path.of(directory));
    }

    public static long parseBytes(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        long scale = 1;
        if (t.endsWith("k") || t.endsWith("m") || t.endsWith("g")) {
            scale = switch (t.charAt(t.length() - 1)) {
                case 'k' -> 1L << 10;
                case 'm' -> 1L << 20;
                default -> 1L << 30;
            };
            t = t.substring(0, t.length() - 1);
        }
        try {
            long value = Long.parseLong(t);
            if (value < 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(value, scale);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "-D" + BUDGET_PROPERTY + "="
                    + text + " is not a size in bytes; write e.g. 2g, 512m or 1000000.");
        }
    }
}

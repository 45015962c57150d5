package org.circuittracer.transcoders.common;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/** Directory listings and the rule that a dictionary's layers are contiguous from 0. */
public final class Layers {

    private Layers() {
    }

    /** The direct sub-directories of {@code directory} that {@code holds}, sorted by name; empty if unreadable. */
    public static List<Path> subdirectories(Path directory, Predicate<Path> holds) {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.filter(Files::isDirectory).filter(holds).sorted().toList();
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    /** Whether {@code directory} has a direct sub-directory holding every one of {@code files}. */
    public static boolean anySubdirectoryHolds(Path directory, String... files) {
        return !subdirectories(directory, sub -> holds(sub, files)).isEmpty();
    }

    /** Whether {@code directory} holds every one of {@code files} as regular files. */
    public static boolean holds(Path directory, String... files) {
        for (String file : files) {
            if (!Files.isRegularFile(directory.resolve(file))) {
                return false;
            }
        }
        return true;
    }

    /**
     * The values of {@code byLayer} in layer order, which must be {@code 0 … L−1}.
     *
     * @param what      what one value is, for messages (e.g. "SAE directory")
     * @param directory the dictionary directory
     * @throws CircuitTracerException MALFORMED_FILE listing the missing layers
     */
    public static <T> List<T> contiguous(SortedMap<Integer, T> byLayer, String what, Path directory) {
        int last = byLayer.lastKey();
        if (byLayer.firstKey() != 0 || last != byLayer.size() - 1) {
            String missing = IntStream.rangeClosed(0, last).filter(l -> !byLayer.containsKey(l))
                    .mapToObj(Integer::toString).collect(Collectors.joining(", "));
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, directory + ": a dictionary covers "
                    + "layers 0 … L−1 with one " + what + " each, but layer" + (missing.contains(",") ? "s " : " ")
                    + missing + " " + (missing.contains(",") ? "have" : "has") + " none (found layers "
                    + byLayer.keySet() + ").");
        }
        return List.copyOf(byLayer.values());
    }

    /** Puts {@code value} at {@code layer}, refusing a second one. */
    public static <T> void put(Map<Integer, T> byLayer, int layer, T value, Path first, Path second, String what) {
        if (byLayer.putIfAbsent(layer, value) != null) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, "Two " + what + "s are for layer "
                    + layer + ": " + first + " and " + second + "; keep one per layer.");
        }
    }
}

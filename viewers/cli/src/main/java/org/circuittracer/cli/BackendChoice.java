package org.circuittracer.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.circuittracer.runtime.ProviderKind;
import org.circuittracer.runtime.ProviderRegistry;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.BackendProvider;

/**
 * The backend that opens a model directory when {@code --backend} is not given.
 *
 * <ol>
 *   <li>The backends whose {@link BackendProvider#canOpen} accepts the directory are the candidates; one candidate is
 *       the choice.</li>
 *   <li>Several candidates (an ONNX export keeps the Hugging Face {@code config.json}, so {@code djl} accepts it too):
 *       the one whose weight files the directory holds — {@code model.onnx} for {@code onnx}, {@code *.safetensors}
 *       for {@code djl}. If that is not exactly one, {@code djl} (the default backend), else the first by name; the
 *       choice is said on the progress output with how to override it.</li>
 *   <li>No candidate: the backend whose files the directory holds, else {@code djl}, so that its own error says what
 *       is wrong (an unsupported architecture, a missing file); without either, an error naming the installed
 *       backends.</li>
 * </ol>
 */
final class BackendChoice {

    /** The default backend. */
    static final String DEFAULT = "djl";

    /** The chosen provider, and why when that is worth saying (null otherwise). */
    record Choice(BackendProvider provider, String reason) {
    }

    private BackendChoice() {
    }

    /**
     * The backend named {@code requested}, or (null) the one chosen for {@code model} as the class comment says.
     *
     * @throws CircuitTracerException PROVIDER_NOT_FOUND for an unknown name; INVALID_ARGUMENT when no backend is
     *         installed
     */
    static Choice choose(ProviderRegistry registry, String requested, Path model) {
        if (requested != null) {
            return new Choice(registry.get(ProviderKind.BACKEND, requested), null);
        }
        List<BackendProvider> installed = registry.all(ProviderKind.BACKEND);
        List<BackendProvider> candidates = installed.stream().filter(b -> canOpen(b, model)).toList();
        if (candidates.size() == 1) {
            return new Choice(candidates.get(0), null);
        }
        List<BackendProvider> owners = (candidates.isEmpty() ? installed : candidates).stream()
                .filter(b -> holdsFilesOf(b.name(), model)).toList();
        if (owners.size() == 1) {
            BackendProvider owner = owners.get(0);
            return new Choice(owner, candidates.isEmpty() ? null : "chose backend '" + owner.name() + "' for " + model
                    + ": it holds " + files(owner.name()) + " (" + names(candidates) + " can open it; --backend "
                    + "NAME chooses another)");
        }
        List<BackendProvider> pool = candidates.isEmpty() ? installed : owners.isEmpty() ? candidates : owners;
        if (pool.isEmpty()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "No backend is installed to open "
                    + model + ". 'circuit-tracer plugins' lists the installed providers.");
        }
        BackendProvider chosen = pool.stream().filter(b -> b.name().equals(DEFAULT)).findFirst().orElse(pool.get(0));
        return new Choice(chosen, candidates.isEmpty() ? null : "chose backend '" + chosen.name() + "' for " + model
                + ": " + names(candidates) + " can open it; --backend NAME chooses another");
    }

    /** Whether {@code directory} holds the weight files {@code backend} reads (known for the built-in backends). */
    static boolean holdsFilesOf(String backend, Path directory) {
        return switch (backend) {
            case "onnx" -> Files.isRegularFile(directory.resolve("model.onnx"));
            case "djl" -> anySafetensors(directory);
            default -> false;
        };
    }

    private static String files(String backend) {
        return backend.equals("onnx") ? "model.onnx" : backend.equals("djl") ? "*.safetensors" : "its files";
    }

    private static boolean anySafetensors(Path directory) {
        if (!Files.isDirectory(directory)) {
            return false;
        }
        try (Stream<Path> files = Files.list(directory)) {
            return files.anyMatch(f -> f.getFileName().toString().endsWith(".safetensors"));
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean canOpen(BackendProvider backend, Path model) {
        try {
            return backend.canOpen(model);
        } catch (RuntimeException e) {
            return false; // a plugin's check that fails cannot open it
        }
    }

    private static String names(List<BackendProvider> backends) {
        return backends.stream().map(BackendProvider::name).sorted().collect(Collectors.joining(" and "));
    }
}

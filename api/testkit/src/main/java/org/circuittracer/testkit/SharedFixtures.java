package org.circuittracer.testkit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Locates the shared test fixtures ({@code ../shared/fixtures} beside the checkout: tiny Hugging Face models with
 * golden activations and tiny transcoders). The system property {@code circuittracer.fixtures} or the environment
 * variable {@code CIRCUIT_TRACER_FIXTURES} override the search.
 */
public final class SharedFixtures {

    private SharedFixtures() {
    }

    /** The fixtures directory, if it can be found. */
    public static Optional<Path> find() {
        String explicit = System.getProperty("circuittracer.fixtures", System.getenv("CIRCUIT_TRACER_FIXTURES"));
        if (explicit != null && !explicit.isBlank()) {
            Path dir = Path.of(explicit);
            return Files.isDirectory(dir) ? Optional.of(dir) : Optional.empty();
        }
        // Tests run in a module directory somewhere below the checkout; the fixtures sit beside the checkout.
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared").resolve("fixtures");
            if (Files.isDirectory(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** The fixtures directory; skips the calling test (JUnit assumption) when it is absent. */
    public static Path require() {
        Optional<Path> dir = find();
        assumeTrue(dir.isPresent(), "shared fixtures not found (expected ../shared/fixtures beside the checkout)");
        return dir.get();
    }

    /** A file or directory below the fixtures, e.g. {@code resolve("tiny-models/llama")}; skips when absent. */
    public static Path resolve(String relative) {
        Path path = require().resolve(relative);
        assumeTrue(Files.exists(path), "fixture " + relative + " not found");
        return path;
    }
}

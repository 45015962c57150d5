package org.circuittracer.testkit;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Locates the shared test fixtures ({@code ../shared/fixtures} beside the checkout: tiny Hugging Face models with
 * golden activations and tiny transcoders). The system property {@code circuittracer.fixtures} or the environment
 * variable {@code CIRCUIT_TRACER_FIXTURES} override the search.
 *
 * <p>A missing fixtures directory or fixture file skips the calling test (a JUnit assumption) on a developer's
 * machine, but fails it under CI (environment variable {@code CI} set to {@code true}, in any case), so that CI
 * cannot pass by skipping what it was meant to test. {@link #missing(String)} is that one rule, for other lookups.
 */
public final class SharedFixtures {

    /** The system property that points at the fixtures directory. */
    static final String PROPERTY = "circuittracer.fixtures";
    /** The environment variable that points at the fixtures directory (the property wins). */
    static final String VARIABLE = "CIRCUIT_TRACER_FIXTURES";
    /** The environment variable CI services set to {@code true}. */
    static final String CI_VARIABLE = "CI";

    private static final String HOW_TO_POINT = "Set " + VARIABLE + "=/path/to/fixtures (or -D" + PROPERTY
            + "=/path/to/fixtures) to point elsewhere.";

    /** Where the fixtures are, if anywhere, and where they were looked for (for messages). */
    record Location(Optional<Path> directory, String lookedAt) {
    }

    private SharedFixtures() {
    }

    /** The fixtures directory, if it can be found. */
    public static Optional<Path> find() {
        return locate().directory();
    }

    /** The fixtures directory; skips the calling test when it is absent, or fails it under CI. */
    public static Path require() {
        return require(locate(), ci());
    }

    /**
     * A file or directory below the fixtures, e.g. {@code resolve("tiny-models/llama")}; skips the calling test when
     * it is absent, or fails it under CI.
     */
    public static Path resolve(String relative) {
        return resolve(locate(), relative, ci());
    }

    /** Whether missing fixtures fail tests here (environment variable {@code CI} is {@code true}). */
    public static boolean failsWhenMissing() {
        return failsWhenMissing(ci());
    }

    /**
     * Ends the calling test because a fixture is missing: fails it under CI, skips it (JUnit assumption)
     * elsewhere. Never returns normally.
     *
     * @param message what is missing and where it was looked for
     */
    public static void missing(String message) {
        missing(message, ci());
    }

    // ---- the rule, with the environment as parameters (unit-tested without touching the real environment) ----

    /** {@code CI=true}, in any case and ignoring surrounding blanks, means missing fixtures fail. */
    static boolean failsWhenMissing(String ciValue) {
        return ciValue != null && ciValue.strip().toLowerCase(Locale.ROOT).equals("true");
    }

    static void missing(String message, String ciValue) {
        if (failsWhenMissing(ciValue)) {
            fail(message + " (" + CI_VARIABLE + "=" + ciValue + ": a missing fixture fails the test instead of "
                    + "skipping it)");
        }
        assumeTrue(false, message + " (skipped; under CI=true this fails)");
    }

    static Location locate(String property, String variable, Path workingDirectory) {
        String explicit = property != null ? property : variable;
        if (explicit != null && !explicit.isBlank()) {
            String source = property != null ? "system property " + PROPERTY : "environment variable " + VARIABLE;
            Path dir;
            try {
                dir = Path.of(explicit);
            } catch (InvalidPathException e) {
                return new Location(Optional.empty(), source + " = " + explicit + " (not a valid path)");
            }
            return new Location(Files.isDirectory(dir) ? Optional.of(dir) : Optional.empty(),
                    source + " = " + explicit + (Files.isDirectory(dir) ? "" : " (not a directory)"));
        }
        // Tests run in a module directory somewhere below the checkout; the fixtures sit beside the checkout.
        Path start = workingDirectory.toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared").resolve("fixtures");
            if (Files.isDirectory(candidate)) {
                return new Location(Optional.of(candidate), candidate.toString());
            }
        }
        return new Location(Optional.empty(), "shared/fixtures in " + start + " and in each directory above it "
                + "(expected ../shared/fixtures beside the checkout)");
    }

    static Path require(Location location, String ciValue) {
        if (location.directory().isEmpty()) {
            missing("Shared test fixtures not found; looked at " + location.lookedAt() + ". " + HOW_TO_POINT, ciValue);
        }
        return location.directory().orElseThrow();
    }

    static Path resolve(Location location, String relative, String ciValue) {
        Path path = require(location, ciValue).resolve(relative);
        if (!Files.exists(path)) {
            missing("Fixture " + relative + " not found: " + path + " does not exist (fixtures directory from "
                    + location.lookedAt() + "). " + HOW_TO_POINT, ciValue);
        }
        return path;
    }

    private static Location locate() {
        return locate(System.getProperty(PROPERTY), System.getenv(VARIABLE), Path.of(""));
    }

    private static String ci() {
        return System.getenv(CI_VARIABLE);
    }
}

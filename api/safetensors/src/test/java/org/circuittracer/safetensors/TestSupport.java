package org.circuittracer.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Helpers shared by the tests: raw file construction, fixture lookup, error assertions. */
final class TestSupport {

    private TestSupport() {
    }

    /** A file made of an 8-byte little-endian header length, the header text and the data bytes. */
    static byte[] raw(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return raw(h.length, h, data);
    }

    /** A file whose length prefix says {@code declaredLength} whatever follows. */
    static byte[] raw(long declaredLength, byte[] header, byte[] data) {
        return ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(declaredLength).put(header).put(data).array();
    }

    static Path write(Path dir, String name, byte[] content) {
        try {
            return Files.write(dir.resolve(name), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Opens {@code file}, expecting a SafetensorsFormatException of {@code kind} naming the file. */
    static SafetensorsFormatException rejected(Path file, SafetensorsFormatException.Kind kind, String... fragments) {
        SafetensorsFormatException e = catchThrowableOfType(SafetensorsFormatException.class, () -> {
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                f.names();
            }
        });
        assertThat(e).as("opening %s should fail with %s", file, kind).isNotNull();
        assertThat(e.kind()).as(e.getMessage()).isEqualTo(kind);
        assertThat(e.file()).isEqualTo(file);
        assertThat(e.getMessage()).contains(file.toString()).contains(fragments);
        return e;
    }

    /**
     * The shared fixtures directory: the {@code circuittracer.fixtures} system property or the
     * {@code CIRCUIT_TRACER_FIXTURES} environment variable (as testkit's {@code SharedFixtures}); else the
     * {@code fixtures} directory below the older {@code circuittracer.shared} system property; else
     * {@code shared/fixtures} next to an ancestor of the working directory. When it is absent, or lacks
     * {@code required}, the calling test is skipped, or fails under CI ({@link #missingFixture}).
     */
    static Path fixtures(String required) {
        String property = System.getProperty("circuittracer.fixtures");
        String explicit = property != null ? property : System.getenv("CIRCUIT_TRACER_FIXTURES");
        String lookedAt;
        Path dir = null;
        if (explicit != null && !explicit.isBlank()) {
            lookedAt = (property != null ? "system property circuittracer.fixtures" : "environment variable "
                    + "CIRCUIT_TRACER_FIXTURES") + " = " + explicit;
            dir = Files.isDirectory(Path.of(explicit)) ? Path.of(explicit) : null;
            lookedAt += dir == null ? " (not a directory)" : "";
        } else if (System.getProperty("circuittracer.shared") != null) {
            lookedAt = "system property circuittracer.shared = " + System.getProperty("circuittracer.shared")
                    + " (its fixtures directory)";
            Path candidate = Path.of(System.getProperty("circuittracer.shared"), "fixtures");
            dir = Files.isDirectory(candidate) ? candidate.toAbsolutePath().normalize() : null;
        } else {
            Path start = Path.of("").toAbsolutePath();
            lookedAt = "shared/fixtures in " + start + " and in each directory above it (expected "
                    + "../shared/fixtures beside the checkout)";
            for (Path p = start; p != null && dir == null; p = p.getParent()) {
                if (Files.isDirectory(p.resolve("shared/fixtures"))) {
                    dir = p.resolve("shared/fixtures");
                }
            }
        }
        String howToPoint = " Set CIRCUIT_TRACER_FIXTURES=/path/to/fixtures (or -Dcircuittracer.fixtures=...) to "
                + "point elsewhere.";
        if (dir == null) {
            missingFixture("Shared test fixtures not found; looked at " + lookedAt + "." + howToPoint,
                    System.getenv("CI"));
        } else if (!Files.exists(dir.resolve(required))) {
            missingFixture("Fixture " + required + " not found: " + dir.resolve(required) + " does not exist."
                    + howToPoint, System.getenv("CI"));
        }
        return dir;
    }

    /**
     * Ends the calling test because a fixture is missing: fails it when {@code ciValue} is {@code true} (any case),
     * i.e. under CI, and skips it elsewhere. This mirrors {@code org.circuittracer.testkit.SharedFixtures#missing}:
     * this module sits below the testkit (it depends on the SPI only), so it does not depend on it, even for tests.
     * Keep the two rules the same.
     */
    static void missingFixture(String message, String ciValue) {
        if (ciValue != null && ciValue.strip().equalsIgnoreCase("true")) {
            fail(message + " (CI=" + ciValue + ": a missing fixture fails the test instead of skipping it)");
        }
        assumeTrue(false, message + " (skipped; under CI=true this fails)");
    }

    static byte[] floatsLE(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return b.array();
    }

    static byte[] bytesOf(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}

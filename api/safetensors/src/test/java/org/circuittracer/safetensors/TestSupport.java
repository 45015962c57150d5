package org.circuittracer.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

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
     * The project's shared directory: the {@code circuittracer.shared} system property if it holds
     * {@code fixtures}, else a {@code shared} directory next to an ancestor of the working directory.
     */
    static Optional<Path> shared() {
        String prop = System.getProperty("circuittracer.shared");
        if (prop != null && Files.isDirectory(Path.of(prop, "fixtures"))) {
            return Optional.of(Path.of(prop).toAbsolutePath().normalize());
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("shared/fixtures"))) {
                return Optional.of(p.resolve("shared"));
            }
        }
        return Optional.empty();
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

package org.circuittracer.transcoders.reference;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.circuittracer.testkit.SharedFixtures;
import org.circuittracer.transcoders.common.ReferenceConfig;

/** Writable copies of fixture sets, to break them in tests. */
final class Directories {

    private Directories() {
    }

    /** Copies {@code tiny-transcoders/<name>} (without its reference activations) into {@code target}. */
    static Path copyOfFixture(String name, Path target) {
        Path source = SharedFixtures.resolve("tiny-transcoders/" + name);
        try (Stream<Path> files = Files.list(source)) {
            Files.createDirectories(target);
            for (Path file : files.filter(f -> !f.getFileName().toString().startsWith("reference_")).toList()) {
                Files.write(target.resolve(file.getFileName()), Files.readAllBytes(file));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return target;
    }

    /** Rewrites {@code config.yaml}. */
    static Path editConfig(Path dir, UnaryOperator<String> edit) {
        try {
            Path config = dir.resolve(ReferenceConfig.FILE_NAME);
            Files.writeString(config, edit.apply(Files.readString(config)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    static void delete(Path file) {
        try {
            Files.delete(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package org.circuittracer.transformer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Recognition;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.transformer.checkpoint.JsonConfig;

/** The checks every backend makes on the model directory it is given, with one wording. */
public final class ModelDirectory {

    /** The Hugging Face configuration file of a model directory. */
    public static final String CONFIG = "config.json";

    private ModelDirectory() {
    }

    /**
     * @param expected what the directory should hold, for the message (e.g. "an ONNX export (model.onnx, ...)")
     * @throws CircuitTracerException FILE_NOT_FOUND when {@code directory} is missing or not a directory
     */
    public static void require(Path directory, String expected) {
        if (!Files.isDirectory(directory)) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "The model directory " + directory
                    + (Files.exists(directory) ? " is not a directory" : " does not exist") + ". Give " + expected
                    + ".");
        }
    }

    /** The directory's {@code config.json} when it exists and parses; empty otherwise (for {@code recognize}). */
    public static Optional<JsonConfig> readableConfig(Path directory) {
        Path config = directory.resolve(CONFIG);
        if (!Files.isRegularFile(config)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JsonConfig.read(config));
        } catch (CircuitTracerException e) {
            return Optional.empty();
        }
    }

    /**
     * {@link Recognition#none} when {@code directory} is missing, not a directory, or has no {@code config.json} that
     * parses; empty when the config can be read.
     */
    public static Optional<Recognition> unreadable(Path directory) {
        if (!Files.isDirectory(directory)) {
            return Optional.of(Recognition.none(Files.exists(directory) ? "a file, not a directory" : "does not exist"));
        }
        if (!Files.isRegularFile(directory.resolve(CONFIG))) {
            return Optional.of(Recognition.none("no " + CONFIG));
        }
        return readableConfig(directory).isPresent() ? Optional.empty()
                : Optional.of(Recognition.none(CONFIG + " does not parse"));
    }

    /** Whether {@code directory} holds {@code *.safetensors} weights (one file or shards). */
    public static boolean holdsSafetensors(Path directory) {
        try (java.util.stream.Stream<Path> files = Files.list(directory)) {
            return files.anyMatch(f -> f.getFileName().toString().endsWith(".safetensors"));
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** The directory's name, as a model's {@code ModelConfig.modelName()}. */
    public static String name(Path directory) {
        return directory.toAbsolutePath().normalize().getFileName().toString();
    }
}

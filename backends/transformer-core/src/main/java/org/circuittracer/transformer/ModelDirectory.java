package org.circuittracer.transformer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.circuittracer.spi.CircuitTracerException;
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

    /** The directory's {@code config.json} when it exists and parses; empty otherwise (for {@code canOpen}). */
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

    /** The directory's name, as a model's {@code ModelConfig.modelName()}. */
    public static String name(Path directory) {
        return directory.toAbsolutePath().normalize().getFileName().toString();
    }
}

package org.circuittracer.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.Precision;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.testkit.SharedFixtures;

/** The four tiny fixture models (../shared/fixtures/tiny-models) and their goldens. */
final class TinyModels {

    static final List<String> ARCHITECTURES = List.of("gpt2", "llama", "gemma2", "qwen3", "gemma3");

    private TinyModels() {
    }

    static Path directory(String architecture) {
        return SharedFixtures.resolve("tiny-models/" + architecture);
    }

    static TransformerModel open(String architecture) {
        return open(directory(architecture), Precision.FLOAT32);
    }

    static TransformerModel open(Path directory, Precision precision) {
        return new DjlBackendProvider().create(new ModelSource(directory, precision, "auto", Map.of()));
    }

    /** Golden prompt {@code k} (0, 1 or 2). */
    static TokenSequence prompt(String architecture, int k) {
        try (SafetensorsFile golden = golden(architecture)) {
            return new TokenSequence(golden.readInts("p" + k + ".input_ids"));
        }
    }

    static SafetensorsFile golden(String architecture) {
        return SafetensorsFile.open(directory(architecture).resolve("golden.safetensors"));
    }

    /** Copies a fixture model's files into {@code target} (a writable directory). */
    static Path copy(String architecture, Path target) {
        try {
            for (String file : List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")) {
                Files.copy(directory(architecture).resolve(file), target.resolve(file),
                        StandardCopyOption.REPLACE_EXISTING);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The largest {@code |a − b|}; fails unless every element has {@code |a − b| ≤ abs + rel·|b|}. */
    static double assertClose(NDArray actual, float[] expected, double abs, double rel, String what) {
        float[] a = actual.toFloatArray();
        assertThat(a).as(what + " element count").hasSameSizeAs(expected);
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            double error = Math.abs(a[i] - expected[i]);
            max = Math.max(max, error);
            if (!(error <= abs + rel * Math.abs(expected[i]))) {
                throw new AssertionError(what + ": element " + i + " is " + a[i] + ", expected " + expected[i]
                        + " (|difference| " + error + " > " + (abs + rel * Math.abs(expected[i])) + ")");
            }
        }
        return max;
    }
}

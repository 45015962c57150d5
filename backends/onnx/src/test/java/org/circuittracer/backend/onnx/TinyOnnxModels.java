package org.circuittracer.backend.onnx;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.circuittracer.backend.djl.DjlBackendProvider;
import org.circuittracer.onnx.export.OnnxExporter;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.testkit.SharedFixtures;

/** The four tiny fixture models, exported to ONNX once per test JVM into target/tiny-onnx. */
final class TinyOnnxModels {

    static final List<String> ARCHITECTURES = List.of("gpt2", "llama", "gemma2", "qwen3", "gemma3");
    private static final Map<String, Path> EXPORTED = new HashMap<>();

    private TinyOnnxModels() {
    }

    static Path source(String architecture) {
        return SharedFixtures.resolve("tiny-models/" + architecture);
    }

    /** The ONNX export of a fixture (written on first use). */
    static synchronized Path exported(String architecture) {
        return EXPORTED.computeIfAbsent(architecture, arch -> {
            Path target = Path.of("target", "tiny-onnx", arch);
            try (NDManager manager = NDManager.newBaseManager()) {
                Files.createDirectories(target);
                OnnxExporter.export(source(arch), target, OnnxExporter.Options.defaults(), manager);
                return target;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    static TransformerModel onnx(String architecture) {
        return new OnnxBackendProvider().create(ModelSource.of(exported(architecture)));
    }

    static TransformerModel djl(String architecture) {
        return new DjlBackendProvider().create(ModelSource.of(source(architecture)));
    }

    /** Golden prompt {@code k} (0, 1 or 2). */
    static TokenSequence prompt(String architecture, int k) {
        try (SafetensorsFile golden = golden(architecture)) {
            return new TokenSequence(golden.readInts("p" + k + ".input_ids"));
        }
    }

    static SafetensorsFile golden(String architecture) {
        return SafetensorsFile.open(source(architecture).resolve("golden.safetensors"));
    }

    /** max |a − b| / max(1, max |b|). */
    static double relativeError(float[] actual, float[] expected) {
        if (actual.length != expected.length) {
            throw new AssertionError(actual.length + " values, expected " + expected.length);
        }
        double scale = 1;
        double error = 0;
        for (int i = 0; i < actual.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            error = Math.max(error, Math.abs(actual[i] - expected[i]));
        }
        return error / scale;
    }
}

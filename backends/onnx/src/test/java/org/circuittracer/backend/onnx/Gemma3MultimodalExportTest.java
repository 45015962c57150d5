package org.circuittracer.backend.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.circuittracer.backend.djl.Gemma3Multimodal;
import org.circuittracer.onnx.export.OnnxExporter;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A multimodal Gemma 3 checkpoint through {@code export-onnx} and the onnx backend: the language model is exported
 * (the vision tower is not), opens with the built-in gemma3 site map, equals the goldens, and refuses the image token.
 */
class Gemma3MultimodalExportTest {

    private static final int IMAGE_TOKEN = 200;

    @TempDir
    Path dir;

    @Test
    void theLanguageModelExportsOpensAndEqualsTheGoldens() throws IOException {
        Path source = Gemma3Multimodal.write(TinyOnnxModels.source("gemma3"), Files.createDirectory(dir.resolve("hf")),
                "language_model.model.", IMAGE_TOKEN);
        Path exported = dir.resolve("onnx");
        try (NDManager manager = NDManager.newBaseManager()) {
            OnnxExporter.export(source, exported, OnnxExporter.Options.defaults(), manager);
        }
        try (TransformerModel model = new OnnxBackendProvider().create(ModelSource.of(exported));
             NDManager manager = NDManager.newBaseManager();
             SafetensorsFile golden = TinyOnnxModels.golden("gemma3")) {
            assertThat(model.config().architecture()).isEqualTo("Gemma3ForConditionalGeneration");
            for (int k = 0; k < 3; k++) {
                float[] logits = model.forward(manager, TinyOnnxModels.prompt("gemma3", k), List.of()).logits()
                        .toFloatArray();
                float[] expected = golden.readFloats("p" + k + ".logits");
                for (int i = 0; i < expected.length; i++) {
                    assertThat((double) Math.abs(logits[i] - expected[i])).as("p%d logit %d", k, i)
                            .isLessThanOrEqualTo(1e-4 + 1e-4 * Math.abs(expected[i]));
                }
            }
            TokenSequence withImage = new TokenSequence(new int[] {2, 17, IMAGE_TOKEN});
            assertThatThrownBy(() -> model.forward(manager, withImage, List.of()))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("image token");
        }
    }
}

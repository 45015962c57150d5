package org.circuittracer.onnx.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import onnx.Onnx.ModelProto;
import onnx.Onnx.ValueInfoProto;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.testkit.SharedFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The exporter on its own, without ONNX Runtime: the graph it writes has the Optimum interface and the files beside
 * it. (That ONNX Runtime computes the same logits as the djl backend is the onnx backend's parity tests.)
 */
class OnnxExporterTest {

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama", "gemma2", "qwen3", "gemma3"})
    void writesTheOptimumInterfaceAndCopiesTheSmallFiles(String architecture, @TempDir Path target)
            throws IOException {
        Path source = SharedFixtures.resolve("tiny-models/" + architecture);
        Path written;
        try (NDManager manager = NDManager.newBaseManager()) {
            written = OnnxExporter.export(source, target, OnnxExporter.Options.defaults(), manager);
        }
        ModelProto model;
        try (InputStream in = Files.newInputStream(written)) {
            model = ModelProto.parseFrom(in);
        }
        assertThat(model.getGraph().getInputList()).extracting(ValueInfoProto::getName)
                .contains("input_ids", "attention_mask", "position_ids", "past_key_values.0.key");
        assertThat(model.getGraph().getOutputList()).extracting(ValueInfoProto::getName)
                .contains("logits", "present.0.value");
        assertThat(model.getGraph().getInitializerCount()).isPositive();
        assertThat(model.getProducerVersion()).as("this build's version, not a constant")
                .matches("\\d+\\.\\d+\\.\\d+.*").isEqualTo(OnnxExporter.PRODUCER_VERSION);
        assertThat(target.resolve("config.json")).hasSameTextualContentAs(source.resolve("config.json"));
        assertThat(target.resolve("tokenizer.json")).exists();
        assertThat(target.resolve(OnnxExporter.EXTERNAL_DATA)).doesNotExist();
    }

    @Test
    void externalDataMovesTheWeightsBesideTheModel(@TempDir Path target) throws IOException {
        Path source = SharedFixtures.resolve("tiny-models/llama");
        try (NDManager manager = NDManager.newBaseManager()) {
            OnnxExporter.export(source, target, new OnnxExporter.Options(true), manager);
        }
        assertThat(target.resolve(OnnxExporter.EXTERNAL_DATA)).isNotEmptyFile();
        assertThat(Files.size(target.resolve("model.onnx"))).isLessThan(Files.size(target.resolve(
                OnnxExporter.EXTERNAL_DATA)));
    }

    @Test
    void aDirectoryWithoutConfigIsFileNotFound(@TempDir Path empty, @TempDir Path target) {
        try (NDManager manager = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> OnnxExporter.export(empty, target, OnnxExporter.Options.defaults(), manager))
                    .isInstanceOfSatisfying(CircuitTracerException.class, e -> assertThat(e.errorCode())
                            .isEqualTo(StandardErrorCode.FILE_NOT_FOUND))
                    .hasMessageContaining("No config.json");
        }
    }

    @Test
    void exportingIntoTheSourceIsRefused() {
        Path source = SharedFixtures.resolve("tiny-models/llama");
        try (NDManager manager = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> OnnxExporter.export(source, source, OnnxExporter.Options.defaults(), manager))
                    .isInstanceOfSatisfying(CircuitTracerException.class, e -> assertThat(e.errorCode())
                            .isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("another directory");
        }
    }
}

package org.circuittracer.transformer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The provider-side checks both backends share: device names and model directories. */
class DeviceChoiceAndDirectoryTest {

    @Test
    void deviceSpellings() {
        assertThat(DeviceChoice.parse("auto", "x", "auto or cpu")).isEqualTo(DeviceChoice.AUTO);
        assertThat(DeviceChoice.parse("cpu", "x", "auto or cpu")).isEqualTo(DeviceChoice.CPU);
        assertThat(DeviceChoice.parse("cuda:1", "x", "auto or cpu")).isEqualTo(DeviceChoice.CUDA);
        assertThat(DeviceChoice.parse("gpu", "x", "auto or cpu")).isEqualTo(DeviceChoice.CUDA);
        assertThatThrownBy(() -> DeviceChoice.parse("tpu", "onnx", "auto, cpu or cuda"))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessage("Unknown device 'tpu' for the onnx backend; use auto, cpu or cuda.");
    }

    @Test
    void aMissingDirectoryOrAFileIsFileNotFoundSayingWhatToGive(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("f"), "x");
        assertThatThrownBy(() -> ModelDirectory.require(dir.resolve("none"), "a model directory"))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.FILE_NOT_FOUND))
                .hasMessageEndingWith("does not exist. Give a model directory.");
        assertThatThrownBy(() -> ModelDirectory.require(file, "a model directory"))
                .hasMessageContaining("is not a directory");
    }

    @Test
    void recognitionReadsAConfigOnlyWhenItParses(@TempDir Path dir) throws IOException {
        assertThat(ModelDirectory.readableConfig(dir)).isEmpty();
        Files.writeString(dir.resolve(ModelDirectory.CONFIG), "{not json");
        assertThat(ModelDirectory.readableConfig(dir)).isEmpty();
        Files.writeString(dir.resolve(ModelDirectory.CONFIG), "{\"architectures\": [\"LlamaForCausalLM\"]}");
        assertThat(ModelDirectory.readableConfig(dir)).hasValueSatisfying(c -> assertThat(c.has("architectures"))
                .isTrue());
    }
}

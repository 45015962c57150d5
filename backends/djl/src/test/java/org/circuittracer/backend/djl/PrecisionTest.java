package org.circuittracer.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Path;
import java.util.List;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.Precision;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.spi.site.SiteKind;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * bfloat16 and float16 checkpoints load (bfloat16 widened in Java: DJL would abort the JVM) and float16 precision
 * runs, with logits close to the float32 model's.
 */
class PrecisionTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama", "gemma2", "qwen3"})
    void aBfloat16CheckpointRunsInFloat32(String architecture) {
        writeCopy(architecture, DType.BF16);
        assertCloseToFloat32(architecture, Precision.FLOAT32);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama", "gemma2", "qwen3"})
    void aFloat32CheckpointRunsInFloat16(String architecture) {
        TinyModels.copy(architecture, dir);
        assertCloseToFloat32(architecture, Precision.FLOAT16);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gemma2"})
    void aFloat16CheckpointRunsInBothPrecisions(String architecture) {
        writeCopy(architecture, DType.F16);
        assertCloseToFloat32(architecture, Precision.FLOAT16);
        assertCloseToFloat32(architecture, Precision.FLOAT32);
    }

    private void assertCloseToFloat32(String architecture, Precision precision) {
        TokenSequence prompt = TinyModels.prompt(architecture, 2);
        HookSite pattern = HookSite.of(SiteKind.ATTN_PATTERN, 1);
        try (TransformerModel reference = TinyModels.open(architecture);
             TransformerModel model = TinyModels.open(dir, precision);
             NDManager manager = NDManager.newBaseManager()) {
            assertThat(((DjlTransformerModel) model).decoder().embeddings().tokens().getDataType())
                    .isEqualTo(precision == Precision.FLOAT16 ? DataType.FLOAT16 : DataType.FLOAT32);
            var expected = reference.forward(manager, prompt, List.of(new Hook.Capture(pattern)));
            var actual = model.forward(manager, prompt, List.of(new Hook.Capture(pattern)));
            NDArray logits = actual.logits();
            assertThat(logits.getDataType()).isEqualTo(DataType.FLOAT32);
            float scale = expected.logits().abs().max().getFloat();
            TinyModels.assertClose(logits, expected.logits().toFloatArray(), 5e-2 * scale, 5e-2,
                    architecture + " " + precision + " logits");
            TinyModels.assertClose(actual.capturedAt(pattern), expected.capturedAt(pattern).toFloatArray(), 2e-2, 0,
                    architecture + " " + precision + " pattern");
        }
    }

    /** The fixture model with every weight converted to {@code dtype}. */
    private void writeCopy(String architecture, DType dtype) {
        TinyModels.copy(architecture, dir);
        SafetensorsWriter writer = new SafetensorsWriter();
        try (SafetensorsFile original = SafetensorsFile.open(TinyModels.directory(architecture)
                .resolve("model.safetensors"))) {
            for (String name : original.names()) {
                writer.addFloats(name, dtype, original.info(name).shape(), original.readFloats(name));
            }
        }
        writer.write(dir.resolve("model.safetensors"));
    }
}

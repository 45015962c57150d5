package org.circuittracer.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.spi.model.Precision;
import org.circuittracer.transformer.architecture.Architectures;
import org.circuittracer.transformer.checkpoint.JsonConfig;
import org.circuittracer.transformer.checkpoint.WeightReader;
import org.circuittracer.transformer.decoder.Block;
import org.circuittracer.transformer.decoder.Decoder;
import org.circuittracer.transformer.decoder.DecoderForward;
import org.circuittracer.transformer.decoder.Mlp;
import org.circuittracer.transformer.decoder.SiteHooks;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Deferred widening (large bfloat16 checkpoints: forward-only weights widened per product) changes where the float32
 * weights live, not what is computed: the logits are bit for bit those of the eagerly widened model, and the weights
 * the linearised model keeps (value/output projections, norms) stay eager.
 */
class DeferredWideningTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gemma2", "qwen3"})
    void deferredWeightsGiveTheEagerLogitsBitForBit(String architecture) {
        writeBf16Copy(architecture);
        JsonConfig json = JsonConfig.read(dir.resolve("config.json"));
        var config = Architectures.require(json).read(json);
        int[] ids = TinyModels.prompt(architecture, 2).ids();
        try (NDManager eagerWeights = NDManager.newBaseManager();
             NDManager deferredWeights = NDManager.newBaseManager();
             NDManager scratch = NDManager.newBaseManager()) {
            Decoder eager;
            Decoder deferred;
            try (WeightReader reader = WeightReader.open(dir, eagerWeights, Precision.FLOAT32, "test",
                    Long.MAX_VALUE)) {
                assertThat(reader.defersWidening()).isFalse();
                eager = config.load(reader, "eager");
            }
            try (WeightReader reader = WeightReader.open(dir, deferredWeights, Precision.FLOAT32, "test", 0)) {
                assertThat(reader.defersWidening()).isTrue();
                deferred = config.load(reader, "deferred");
            }
            // used after the reader closed its files: the deferred weights keep their mappings
            for (Block block : deferred.blocks()) {
                assertThat(block.attention().weights().query().isDeferred()).isTrue();
                assertThat(block.attention().weights().key().isDeferred()).isTrue();
                assertThat(block.attention().weights().value().isDeferred()).isFalse();
                assertThat(block.attention().weights().output().isDeferred()).isFalse();
                Mlp.Gated mlp = (Mlp.Gated) block.mlp();
                assertThat(mlp.gate().isDeferred() && mlp.up().isDeferred() && mlp.down().isDeferred()).isTrue();
            }
            float[] expected = DecoderForward.run(eager, scratch, ids, SiteHooks.NONE).toFloatArray();
            float[] actual = DecoderForward.run(deferred, scratch, ids, SiteHooks.NONE).toFloatArray();
            assertThat(actual).containsExactly(expected);
            // twice: the pooled buffers are reused
            assertThat(DecoderForward.run(deferred, scratch, ids, SiteHooks.NONE).toFloatArray())
                    .containsExactly(expected);

            // a deferred weight made whole (for exporters) has the eager values and shape
            var eagerGate = ((Mlp.Gated) eager.blocks().get(1).mlp()).gate();
            var deferredGate = ((Mlp.Gated) deferred.blocks().get(1).mlp()).gate();
            assertThat(deferredGate.inputWidth()).isEqualTo(eagerGate.inputWidth());
            assertThat(deferredGate.outputWidth()).isEqualTo(eagerGate.outputWidth());
            assertThat(deferredGate.weight().getShape()).isEqualTo(eagerGate.weight().getShape());
            assertThat(deferredGate.weight().toFloatArray()).containsExactly(eagerGate.weight().toFloatArray());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama"})
    void float32CheckpointsAreNeverDeferred(String architecture) {
        TinyModels.copy(architecture, dir);
        try (NDManager weights = NDManager.newBaseManager();
             WeightReader reader = WeightReader.open(dir, weights, Precision.FLOAT32, "test", 0)) {
            assertThat(reader.defersWidening()).isFalse();
            assertThat(reader.deferred("model.layers.0.mlp.up_proj.weight", 1, 1)).isEmpty();
        }
    }

    private void writeBf16Copy(String architecture) {
        TinyModels.copy(architecture, dir);
        SafetensorsWriter writer = new SafetensorsWriter();
        try (SafetensorsFile original = SafetensorsFile.open(TinyModels.directory(architecture)
                .resolve("model.safetensors"))) {
            for (String name : original.names()) {
                writer.addFloats(name, DType.BF16, original.info(name).shape(), original.readFloats(name));
            }
        }
        writer.write(dir.resolve("model.safetensors"));
    }
}

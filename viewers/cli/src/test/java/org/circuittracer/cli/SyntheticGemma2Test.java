package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.HalfFloats;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.graph.Node;
import org.circuittracer.spi.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Gemma-2-shaped synthetic configurations: {@code tiny-gemma2} end to end (the same writer and calibration as
 * {@code gemma2-2b-shape}, seconds long; nothing is timed), and the seeded bf16 generator.
 */
class SyntheticGemma2Test {

    @Test
    void tinyGemma2WritesBf16ShardsAndJumpReluTranscodersAndAttributes(@TempDir Path dir) throws IOException {
        Path work = dir.resolve("tiny-gemma2-1");
        Path json = dir.resolve("bench.json");
        CircuitTracerCommandTest.Run run = CircuitTracerCommandTest.run("bench", "--synthetic", "tiny-gemma2",
                "--work-dir", work.toString(), "--matmul-size", "64", "--warmups", "0", "--iterations", "1",
                "--lanes", "4", "--json", json.toString(), "--quiet");
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).contains("Synthetic configuration tiny-gemma2").contains("JumpReLU")
                .contains("phase feature_rows");

        // 2 layers: one shard for the embeddings and final norm, one per layer, and the index
        Path model = work.resolve("model");
        assertThat(model.resolve("model.safetensors.index.json")).isRegularFile();
        assertThat(new ObjectMapper().readTree(model.resolve("config.json").toFile()).get("architectures").get(0)
                .asText()).isEqualTo("Gemma2ForCausalLM");
        try (SafetensorsFile layer1 = SafetensorsFile.open(model.resolve("model-00003-of-00003.safetensors"))) {
            assertThat(layer1.info("model.layers.1.mlp.gate_proj.weight").dtype()).isEqualTo(DType.BF16);
            assertThat(layer1.info("model.layers.1.mlp.gate_proj.weight").shape()).containsExactly(64, 32);
            assertThat(layer1.info("model.layers.1.self_attn.q_proj.weight").shape()).containsExactly(32, 32);
            assertThat(layer1.readFloats("model.layers.1.post_feedforward_layernorm.weight")).containsOnly(0f);
        }
        try (SafetensorsFile layer0 = SafetensorsFile.open(work.resolve("transcoders/layer_0.safetensors"))) {
            assertThat(layer0.info("W_enc").dtype()).isEqualTo(DType.BF16);
            assertThat(layer0.info("W_dec").dtype()).isEqualTo(DType.BF16);
            assertThat(layer0.info("activation_function.threshold").shape()).containsExactly(64);
        }

        JsonNode s = new ObjectMapper().readTree(json.toFile()).get("synthetic");
        assertThat(s.get("name").asText()).isEqualTo("tiny-gemma2");
        assertThat(s.get("feature_rows").asInt()).isEqualTo(32);
        // thresholds calibrated so that each feature fires at 1 of 16 calibration positions: 4 of 64 per position
        // on average (the 8-token prompt is a prefix of the calibration sequence)
        assertThat(s.get("active_per_position_and_layer").asDouble()).isBetween(1.0, 12.0);
        assertThat(s.get("floor_flops").asDouble()).isPositive();
        assertThat(s.get("floor_truncated_flops").asDouble()).isPositive()
                .isLessThanOrEqualTo(s.get("floor_flops").asDouble());
    }

    @Test
    void theTruncatedFloorCountsLayersAndPositionsUpToEachRow() {
        // L = 2, d = 32, H = 4 / KV = 2 heads of 8: one layer's adjoint at P positions is
        // 2·P·32·32 + 2·4·P²·8 + 2·P·16·32 = 3072·P + 64·P²
        ModelConfig c = new ModelConfig("m", "Gemma2ForCausalLM", 2, 32, 4, 2, 8, 64, 64, 128);
        double contraction = 2.0 * 32 * (10 + 3 * 8); // 10 active features, T = 8
        List<Node.FeatureNode> selected = List.of(new Node.FeatureNode(0, 0, 5, 1f, 0),
                new Node.FeatureNode(1, 3, 7, 1f, 1));
        double expected = (3072 + 64) + 2 * (3072 * 4 + 64 * 16) + 2 * (3072 * 8 + 64 * 64) // rows: 2 features, 1 logit
                + 3 * contraction;
        assertThat(SyntheticBench.truncatedFloorFlops(c, 8, 10, selected, 1)).isEqualTo(expected);
        assertThat(SyntheticBench.floorFlopsPerRow(c, 8, 10) * 3).isGreaterThan(expected);
    }

    @Test
    void theBf16GeneratorIsSeededPerChunkAndHasTheStatedSpread() {
        long n = 3L * (1 << 20) + 5; // several chunks, the last one partial
        ByteBuffer a = ByteBuffer.allocateDirect((int) (2 * n)).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer b = ByteBuffer.allocateDirect((int) (2 * n)).order(ByteOrder.LITTLE_ENDIAN);
        long seed = Gemma2Files.tensorSeed(1, "model.layers.0.mlp.up_proj.weight");
        Gemma2Files.fillUniformBf16(a, n, 0.02, seed);
        Gemma2Files.fillUniformBf16(b, n, 0.02, seed);
        assertThat(a).isEqualTo(b); // parallel chunks, same bytes
        assertThat(Gemma2Files.tensorSeed(1, "model.layers.1.mlp.up_proj.weight")).isNotEqualTo(seed);
        double sum = 0;
        double squares = 0;
        double bound = 0.02 * Math.sqrt(3) * 1.01;
        for (int i = 0; i < n; i++) {
            double v = HalfFloats.bf16ToFloat(a.getShort(2 * i));
            assertThat(Math.abs(v)).isLessThanOrEqualTo(bound);
            sum += v;
            squares += v * v;
        }
        assertThat(sum / n).isBetween(-1e-4, 1e-4);
        assertThat(Math.sqrt(squares / n)).isBetween(0.0199, 0.0201);
        assertThat(List.of(a.position(), a.limit())).containsExactly(0, (int) (2 * n));
    }
}

package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bench --synthetic} end to end on the seconds-long {@code tiny} configuration (nothing is timed). */
class SyntheticBenchCommandTest {

    private static String[] bench(Path work, Path json, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("bench", "--synthetic", "tiny", "--work-dir",
                work.toString(), "--matmul-size", "64", "--warmups", "0", "--iterations", "1", "--lanes", "4",
                "--json", json.toString(), "--quiet"));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    @Test
    void writesTheConfigurationOnceAndReportsPhasesFloorAndMemory(@TempDir Path dir) throws IOException {
        Path work = dir.resolve("cache/tiny-1");
        Path json = dir.resolve("bench.json");
        CircuitTracerCommandTest.Run first = CircuitTracerCommandTest.run(bench(work, json));
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(work.resolve("model/model.safetensors")).isRegularFile();
        assertThat(work.resolve("model/tokenizer.json")).isRegularFile();
        assertThat(work.resolve("transcoders/config.yaml")).isRegularFile();
        assertThat(work.resolve("transcoders/layer_1.safetensors")).isRegularFile();
        try (var siblings = Files.list(work.getParent())) {
            assertThat(siblings).as("no temporary directory left").containsExactly(work);
        }
        assertThat(first.out()).contains("Synthetic configuration tiny").contains("written")
                .contains("phase feature_rows").contains("phase precompute").contains("graph total")
                .contains("FLOP floor").contains("x matmul").contains("rows time / floor time")
                .contains("peak heap").contains("peak RSS");

        JsonNode s = new ObjectMapper().readTree(json.toFile()).get("synthetic");
        assertThat(s.get("name").asText()).isEqualTo("tiny");
        assertThat(s.get("max_feature_nodes").asInt()).isEqualTo(32);
        assertThat(s.get("batch_size").asInt()).isEqualTo(16);
        assertThat(s.get("feature_rows").asInt()).isEqualTo(32);
        // the calibrated biases make about 10% of the features fire per position (exactly 10% on the calibration
        // sequence, of which the prompt is a prefix)
        assertThat(s.get("active_fraction").asDouble()).isBetween(0.03, 0.3);
        long rows = s.get("feature_rows").asLong() + s.get("logit_rows").asLong();
        assertThat(s.get("floor_flops").asDouble()).isEqualTo(rows * s.get("floor_flops_per_row").asDouble());
        // L=2, T=8, d=32, H=4, h=8, KV=2: attention adjoint 2*(2*8*32*32 + 2*4*64*8 + 2*8*16*32) = 57,344 per row
        assertThat(s.get("floor_attention_flops_per_row").asDouble()).isEqualTo(57_344);
        assertThat(s.get("floor_flops_per_row").asDouble())
                .isEqualTo(57_344 + 2.0 * 32 * (s.get("active_features").asLong() + 3 * 8));
        for (String key : List.of("graph_s", "rows_s", "floor_s", "rows_floor_gflops", "rows_floor_x_matmul",
                "rows_x_floor_time", "peak_heap_mib", "peak_rss_mib")) {
            assertThat(s.get(key).asDouble()).as(key).isPositive();
        }
        assertThat(s.get("phase_s").get("feature_rows").asDouble()).isPositive();

        // reused, with the same prompt and overridable request options
        CircuitTracerCommandTest.Run second = CircuitTracerCommandTest.run(bench(work, json, "--max-feature-nodes",
                "8", "--batch-size", "4"));
        assertThat(second.exit()).as(second.err()).isZero();
        assertThat(second.out()).contains("reused");
        JsonNode again = new ObjectMapper().readTree(json.toFile()).get("synthetic");
        assertThat(again.get("feature_rows").asInt()).isEqualTo(8);
        assertThat(again.get("batch_size").asInt()).isEqualTo(4);
        assertThat(again.get("active_features").asLong()).isEqualTo(s.get("active_features").asLong());
    }

    @Test
    void refusesUnknownNamesAModelAndADirectoryOfAnotherConfiguration(@TempDir Path dir) throws IOException {
        Path json = dir.resolve("bench.json");
        CircuitTracerCommandTest.Run unknown = CircuitTracerCommandTest.run("bench", "--synthetic", "perf99");
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("perf16").contains("perf64");
        CircuitTracerCommandTest.Run model = CircuitTracerCommandTest.run("bench", "--synthetic", "tiny", "--model",
                dir.toString(), "--transcoders", dir.toString());
        assertThat(model.exit()).isEqualTo(2);
        Path other = dir.resolve("other");
        Files.createDirectories(other);
        Files.writeString(other.resolve(SyntheticBench.DESCRIPTION_FILE), "{\"seed\": 5}");
        CircuitTracerCommandTest.Run mismatch = CircuitTracerCommandTest.run(bench(other, json));
        assertThat(mismatch.exit()).isNotZero();
        assertThat(mismatch.err()).contains("another synthetic configuration");
        assertThat(CircuitTracerCommandTest.run("bench", "--help").out()).contains("--synthetic")
                .contains("FLOP floor");
    }
}

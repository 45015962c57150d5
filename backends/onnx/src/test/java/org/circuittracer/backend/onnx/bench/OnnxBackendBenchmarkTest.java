package org.circuittracer.backend.onnx.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.circuittracer.testkit.SharedFixtures;
import org.junit.jupiter.api.Test;

/** The benchmark runs end to end (one iteration, small shapes), so it never rots. */
class OnnxBackendBenchmarkTest {

    @Test
    void oneIterationOnATinyAndASmallSyntheticModel() {
        List<OnnxBackendBenchmark.Comparison> results = OnnxBackendBenchmark.run(
                OnnxBackendBenchmark.Options.smoke(List.of(SharedFixtures.resolve("tiny-models/gpt2"))));
        assertThat(results).extracting(OnnxBackendBenchmark.Comparison::model)
                .containsExactly("gpt2", "synthetic-llama");
        for (OnnxBackendBenchmark.Comparison c : results) {
            assertThat(c.onnx().backend()).isEqualTo("onnx");
            assertThat(c.djl().backend()).isEqualTo("djl");
            for (OnnxBackendBenchmark.Figures f : List.of(c.onnx(), c.djl())) {
                for (double seconds : new double[] {f.forwardSeconds(), f.capturedSeconds(), f.linearizeSeconds(),
                        f.vjpSeconds(), f.generateSeconds()}) {
                    assertThat(seconds).as("%s", f).isPositive().isFinite();
                }
            }
        }
        assertThat(OnnxBackendBenchmark.toMarkdown(results)).contains("| gpt2 |", "| synthetic-llama |", "onnx speed");
    }
}

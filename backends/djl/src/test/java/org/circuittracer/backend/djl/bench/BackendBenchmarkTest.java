package org.circuittracer.backend.djl.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.testkit.SharedFixtures;
import org.circuittracer.transformer.checkpoint.SyntheticCheckpoint;
import org.junit.jupiter.api.Test;

/** The benchmark runs end to end (one iteration, small shapes) and its figures are sane, so it never rots. */
class BackendBenchmarkTest {

    @Test
    void oneIterationOnATinyAndASmallSyntheticModel() {
        BackendBenchmark.Results results = BackendBenchmark.run(
                BackendBenchmark.Options.smoke(List.of(SharedFixtures.resolve("tiny-models/llama"))));
        assertThat(results.matmul().gflops()).isPositive().isFinite();
        assertThat(results.opLatencySeconds()).isPositive();
        assertThat(results.models()).extracting(BackendBenchmark.ModelFigures::model)
                .containsExactly("llama", "synthetic-llama");
        for (BackendBenchmark.ModelFigures m : results.models()) {
            assertThat(m.promptLength()).isEqualTo(8);
            assertThat(m.lanes()).isEqualTo(4);
            for (double figure : new double[] {m.forwardTokensPerSecond(), m.forwardGflops(), m.forwardFraction(),
                    m.vjpLanePositionsPerSecond(), m.vjpRowsPerSecond(), m.vjpGflops(), m.vjpFraction(),
                    m.attentionAdjointSeconds(), m.normSeconds(), m.attentionMatmulSeconds(),
                    m.generationTokensPerSecond()}) {
                assertThat(figure).as("%s", m).isPositive().isFinite();
            }
        }
        assertThat(results.models().get(1).config()).isEqualTo(new ModelConfig("synthetic-llama", "LlamaForCausalLM",
                2, 64, 4, 2, 16, 128, 256, 128));
        assertThat(results.toMarkdown()).contains("| llama |", "| synthetic-llama |", "GFLOP/s");
    }

    @Test
    void flopCountsFollowTheDocumentedFormulas() {
        ModelConfig llama = new ModelConfig("m", "LlamaForCausalLM", 2, 8, 2, 1, 4, 16, 10, 64);
        // per layer: q,o 8·8 each; k,v 8·4 each; MLP 3·8·16; plus unembedding 8·10
        long weights = 2 * (64 + 64 + 32 + 32 + 3 * 128) + 80;
        assertThat(BackendBenchmark.matmulWeights(llama)).isEqualTo(weights);
        assertThat(BackendBenchmark.forwardFlops(llama, 3)).isEqualTo(2.0 * 3 * weights + 4.0 * 2 * 2 * 4 * 9);
        // per lane and layer: 2·P·d·H·h + 2·H·P²·h + 2·P·KV·h·d
        assertThat(BackendBenchmark.vjpFlops(llama, 5, 3))
                .isEqualTo(5.0 * 2 * (2 * 3 * 8 * 8 + 2 * 2 * 9 * 4 + 2 * 3 * 4 * 8));
        ModelConfig gpt2 = new ModelConfig("g", "GPT2LMHeadModel", 1, 8, 2, 2, 4, 32, 10, 64);
        assertThat(BackendBenchmark.matmulWeights(gpt2)).isEqualTo(4 * 64 + 2 * 8 * 32 + 80);
        assertThat(new SyntheticCheckpoint.Spec(8, 512, 8, 4, 2048, 4096, 2048, 1).parameters())
                .isEqualTo(8L * (2 * 512 * 512 + 2 * 512 * 256 + 3 * 512 * 2048 + 2 * 512) + 2L * 512 * 4096 + 512);
    }
}

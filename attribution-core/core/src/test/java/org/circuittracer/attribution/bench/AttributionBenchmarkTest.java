package org.circuittracer.attribution.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Runs the attribution benchmark once, small, so that it cannot rot. */
class AttributionBenchmarkTest {

    @Test
    void theBenchmarkRunsAndReportsEveryFigure() {
        AttributionBenchmark.Results results = AttributionBenchmark.run(AttributionBenchmark.Options.smoke());
        assertThat(results.graphs()).hasSize(2);
        for (AttributionBenchmark.GraphFigures g : results.graphs()) {
            assertThat(g.seconds()).isPositive();
            assertThat(g.vjpRows()).isPositive();
            assertThat(g.vjpGflops()).isPositive().isFinite();
            assertThat(g.phaseSeconds()).isNotEmpty();
        }
        assertThat(results.matmul().gflops()).isPositive();
        assertThat(results.toMarkdown()).contains("| llama-plt-relu |").contains("synthetic");
    }
}

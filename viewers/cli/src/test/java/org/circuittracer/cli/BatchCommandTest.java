package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code batch} in the base tool, where the Spark add-on is not on the class path (its own tests run it). */
class BatchCommandTest {

    @Test
    void withoutTheSparkAddOnSaysHowToGetIt(@TempDir Path dir) {
        CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run("batch", "--prompts",
                dir.resolve("prompts.jsonl").toString(), "--out", dir.resolve("out").toString());

        assertThat(r.exit()).isEqualTo(CircuitTracerCommand.EXIT_USER);
        assertThat(r.err()).contains("[MISSING_CAPABILITY]", "Spark add-on (circuit-tracer-spark)",
                "-pl distribution/spark", "docs/distributed.md");
    }

    @Test
    void refusesBadSettingsBeforeLookingForTheEngine(@TempDir Path dir) {
        CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run("batch", "--prompts",
                dir.resolve("prompts.jsonl").toString(), "--out", dir.resolve("out").toString(), "--node-threshold",
                "2");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--node-threshold and --edge-threshold must be in [0.0, 1.0]");
    }

    @Test
    void isListedWithTheOtherCommands() {
        CircuitTracerCommandTest.Run r = CircuitTracerCommandTest.run("batch", "--help");

        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("--prompts", "--master", "--resume", "--prompts-per-task", "--max-feature-nodes");
    }
}

package org.circuittracer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The launcher starts PyTorch early only for commands that will open a model on the djl backend. */
class EngineWarmUpTest {

    @Test
    void modelCommandsWarmUpAndOthersDoNot() {
        assertThat(EngineWarmUp.wanted(List.of("attribute", "--model", "m", "--prompt", "x"))).isTrue();
        assertThat(EngineWarmUp.wanted(List.of("-q", "generate", "--prompt", "x"))).isTrue();
        assertThat(EngineWarmUp.wanted(List.of("serve", "--graph-file-dir", "g"))).isTrue();
        for (List<String> args : List.<List<String>>of(List.of("plugins"), List.of("export", "--graph-file", "g.json"), List.of(),
                List.of("--version"), List.of("attribute", "--help"), List.of("intervene", "-h"),
                List.of("attribute", "--backend", "onnx", "--model", "m"), List.of("bench", "--backend=onnx"))) {
            assertThat(EngineWarmUp.wanted(args)).as(String.join(" ", args)).isFalse();
        }
    }

    @Test
    void theWarmUpStartsTheEngineOnADaemonThread() throws InterruptedException {
        Optional<Thread> thread = EngineWarmUp.startFor(new String[] {"attribute", "--prompt", "x"});
        assertThat(thread).isPresent();
        assertThat(thread.get().isDaemon()).isTrue();
        thread.get().join(120_000);
        assertThat(thread.get().isAlive()).isFalse();
        assertThat(ai.djl.engine.Engine.hasEngine("PyTorch")).isTrue();
        assertThat(EngineWarmUp.startFor(new String[] {"plugins"})).isEmpty();
    }
}

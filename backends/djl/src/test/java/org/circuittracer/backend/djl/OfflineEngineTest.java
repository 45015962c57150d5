package org.circuittracer.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.util.Utils;
import java.nio.file.Files;
import java.nio.file.Path;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.Test;

/**
 * DJL never fetches anything at run time, also with an empty home: the build runs the tests with {@code user.home}
 * and {@code HOME} pointing to an empty {@code target/fakehome} and {@code ai.djl.offline=true}; the PyTorch engine
 * and the tokenizers library start from the native jars on the class path.
 */
class OfflineEngineTest {

    @Test
    void thePyTorchEngineAndTheTokenizerStartOfflineFromAnEmptyHome() {
        Path home = Path.of(System.getProperty("user.home"));
        assertThat(home.getFileName()).hasToString("fakehome");
        assertThat(System.getenv("HOME")).endsWith("fakehome");
        assertThat(System.getProperty("ai.djl.offline")).isEqualTo("true");
        assertThat(Utils.isOfflineMode()).isTrue();

        try (TransformerModel model = TinyModels.open("gpt2")) {
            assertThat(model.tokenizer().encode("the", false)).containsExactly(1);
            assertThat(Engine.getEngine(PyTorchRuntime.ENGINE).getEngineName()).isEqualTo("PyTorch");
        }
        // DJL's default cache is ${user.home}/.djl.ai: nothing was extracted or downloaded there
        assertThat(Files.exists(home.resolve(".djl.ai"))).isFalse();
    }
}

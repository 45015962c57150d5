package org.circuittracer.backend.djl;

import java.nio.file.Path;
import java.util.List;
import org.circuittracer.spi.model.BackendProvider;
import org.circuittracer.testkit.AbstractBackendConformanceTest;
import org.circuittracer.testkit.SharedFixtures;

/** The model-level kit on the five tiny fixture architectures. */
class DjlBackendConformanceTest extends AbstractBackendConformanceTest {

    @Override
    protected BackendProvider provider() {
        return new DjlBackendProvider();
    }

    @Override
    protected List<Path> models() {
        return List.of("gpt2", "llama", "gemma2", "qwen3", "gemma3").stream()
                .map(arch -> SharedFixtures.resolve("tiny-models/" + arch)).toList();
    }
}

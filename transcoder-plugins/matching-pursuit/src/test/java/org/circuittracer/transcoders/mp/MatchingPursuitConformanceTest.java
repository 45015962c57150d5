package org.circuittracer.transcoders.mp;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.circuittracer.safetensors.DType;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.testkit.AbstractDictionaryConformanceTest;

/** The dictionary kit on two synthetic sets: float32 and bfloat16 storage. */
class MatchingPursuitConformanceTest extends AbstractDictionaryConformanceTest {

    private List<Path> directories;

    @Override
    protected DictionaryFormatProvider provider() {
        return new MatchingPursuitProvider();
    }

    @Override
    protected synchronized List<Path> directories() {
        if (directories == null) {
            try {
                Path root = Files.createTempDirectory("matching-pursuit-kit");
                root.toFile().deleteOnExit();
                directories = List.of(
                        SyntheticPursuitDictionaries.write(root.resolve("f32"), 3, 16, 40, 4, DType.F32, 1),
                        SyntheticPursuitDictionaries.write(root.resolve("bf16"), 2, 12, 24, 3, DType.BF16, 2));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return directories;
    }
}

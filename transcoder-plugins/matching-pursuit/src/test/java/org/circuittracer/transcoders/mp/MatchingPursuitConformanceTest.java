package org.circuittracer.transcoders.mp;

import java.nio.file.Path;
import java.util.List;
import org.circuittracer.safetensors.DType;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.testkit.AbstractDictionaryPluginConformanceTest;
import org.junit.jupiter.api.io.TempDir;

/** Both kits (provider and dictionary rules); the dictionary rules on two synthetic sets: float32 and bfloat16 storage. */
class MatchingPursuitConformanceTest extends AbstractDictionaryPluginConformanceTest {

    /** Static, so that it exists when the kit asks for the directories; shared by the class's tests. */
    @TempDir
    static Path root;

    private List<Path> directories;

    @Override
    protected DictionaryFormatProvider provider() {
        return new MatchingPursuitProvider();
    }

    @Override
    protected synchronized List<Path> directories() {
        if (directories == null) {
            directories = List.of(
                    SyntheticPursuitDictionaries.write(root.resolve("f32"), 3, 16, 40, 4, DType.F32, 1),
                    SyntheticPursuitDictionaries.write(root.resolve("bf16"), 2, 12, 24, 3, DType.BF16, 2));
        }
        return directories;
    }
}

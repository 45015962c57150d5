package org.circuittracer.transcoders.gemmascope;

import java.nio.file.Path;
import java.util.List;
import org.circuittracer.safetensors.DType;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.testkit.AbstractDictionaryPluginConformanceTest;
import org.circuittracer.transcoders.community.FormatWriters;
import org.circuittracer.transcoders.community.TranscoderWeights;
import org.junit.jupiter.api.io.TempDir;

/** The dictionary rules on an affine (skip) set in float32 and a plain one in bfloat16. */
class GemmaScope2DictionaryConformanceTest extends AbstractDictionaryPluginConformanceTest {

    @TempDir
    static Path scratch;

    private static List<Path> directories;

    @Override
    protected DictionaryFormatProvider provider() {
        return new GemmaScope2Provider();
    }

    @Override
    protected synchronized List<Path> directories() {
        if (directories == null) {
            directories = List.of(
                    FormatWriters.gemmaScope2(scratch.resolve("affine"), TranscoderWeights.random(3, 32, 16, 1, true,
                            true), DType.F32, (l, c) -> { }),
                    FormatWriters.gemmaScope2(scratch.resolve("plain-bf16"), TranscoderWeights.random(3, 32, 16, 2,
                            true, false), DType.BF16, (l, c) -> { }));
        }
        return directories;
    }
}

package org.circuittracer.transcoders.saelens;

import java.nio.file.Path;
import java.util.List;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.testkit.AbstractDictionaryPluginConformanceTest;
import org.circuittracer.transcoders.community.FormatWriters;
import org.circuittracer.transcoders.community.TranscoderWeights;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dictionary rules on SAELens 6 JumpReLU transcoders, skip transcoders, and SAELens 5 TopK transcoders (hooks at
 * the top level, {@code activation_fn_str: topk}).
 */
class SaeLensDictionaryConformanceTest extends AbstractDictionaryPluginConformanceTest {

    @TempDir
    static Path scratch;

    private static List<Path> directories;

    @Override
    protected DictionaryFormatProvider provider() {
        return new SaeLensProvider();
    }

    @Override
    protected synchronized List<Path> directories() {
        if (directories == null) {
            directories = List.of(
                    FormatWriters.saeLens(scratch.resolve("jumprelu"), TranscoderWeights.random(3, 32, 16, 1, true,
                            false), "jumprelu_transcoder", (layer, cfg) -> { }),
                    FormatWriters.saeLens(scratch.resolve("skip"), TranscoderWeights.random(3, 32, 16, 2, false, true),
                            "skip_transcoder", (layer, cfg) -> { }),
                    FormatWriters.saeLens(scratch.resolve("topk-v5"), TranscoderWeights.random(3, 32, 16, 3, false,
                            false), "standard", SaeLensTest::version5TopK));
        }
        return directories;
    }
}

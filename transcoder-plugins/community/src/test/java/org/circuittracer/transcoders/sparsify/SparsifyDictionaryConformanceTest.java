package org.circuittracer.transcoders.sparsify;

import java.nio.file.Path;
import java.util.List;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.testkit.AbstractDictionaryPluginConformanceTest;
import org.circuittracer.transcoders.community.FormatWriters;
import org.circuittracer.transcoders.community.TranscoderWeights;
import org.junit.jupiter.api.io.TempDir;

/** Both kits (provider and dictionary rules) on sparsify TopK transcoders, with and without a skip connection. */
class SparsifyDictionaryConformanceTest extends AbstractDictionaryPluginConformanceTest {

    @TempDir
    static Path scratch;

    private static List<Path> directories;

    @Override
    protected DictionaryFormatProvider provider() {
        return new SparsifyProvider();
    }

    @Override
    protected synchronized List<Path> directories() {
        if (directories == null) {
            directories = List.of(
                    FormatWriters.sparsify(scratch.resolve("topk"), TranscoderWeights.random(3, 32, 16, 1, false,
                            false), 4, (layer, cfg) -> { }),
                    FormatWriters.sparsify(scratch.resolve("topk-skip"), TranscoderWeights.random(3, 32, 16, 2, false,
                            true), 6, (layer, cfg) -> { }),
                    // before 2025-02-12: no transcode in cfg.json (the run's config.json says it), input centring
                    // folded into the encoder bias
                    FormatWriters.sparsify(scratch.resolve("pre-v1-skip"), TranscoderWeights.random(3, 32, 16, 3,
                            false, true), 6, (layer, cfg) -> {
                                cfg.remove("transcode");
                                cfg.remove("activation");
                            }));
        }
        return directories;
    }
}

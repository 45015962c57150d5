package org.circuittracer.transcoders.gemmascope;

import java.nio.file.Path;
import java.util.List;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.testkit.AbstractDictionaryPluginConformanceTest;
import org.circuittracer.transcoders.community.FormatWriters;
import org.circuittracer.transcoders.community.TranscoderWeights;
import org.junit.jupiter.api.io.TempDir;

/** The dictionary rules on a plain release-style layout (deflated) and on a config-listed one (stored). */
class GemmaScopeDictionaryConformanceTest extends AbstractDictionaryPluginConformanceTest {

    @TempDir
    static Path scratch;

    private static List<Path> directories;

    @Override
    protected DictionaryFormatProvider provider() {
        return new GemmaScopeNpzProvider();
    }

    @Override
    protected synchronized List<Path> directories() {
        if (directories == null) {
            directories = List.of(
                    FormatWriters.gemmaPlain(scratch.resolve("plain-release-compressed"),
                            TranscoderWeights.random(3, 32, 16, 1, true, false), FormatWriters.GemmaLayout.RELEASE,
                            true),
                    FormatWriters.gemmaListed(scratch.resolve("listed"), TranscoderWeights.random(3, 32, 16, 2, true,
                            false), SiteKind.LN2_NORMALIZED, SiteKind.MLP_OUT));
        }
        return directories;
    }
}

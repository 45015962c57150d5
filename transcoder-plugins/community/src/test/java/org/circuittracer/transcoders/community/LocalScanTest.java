package org.circuittracer.transcoders.community;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.transcoders.common.FormatOptions;
import org.circuittracer.transcoders.gemmascope.GemmaScopeNpzProvider;
import org.circuittracer.transcoders.saelens.SaeLensProvider;
import org.circuittracer.transcoders.sparsify.SparsifyProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A local dictionary whose files name no scan gets its directory's absolute, normalised path as scan, however the
 * directory was named (the reference's default for local sets: its viewer then loads feature examples from the serving
 * server's {@code /features/}); a scan given as an option wins.
 */
class LocalScanTest {

    @TempDir
    Path dir;

    private final TranscoderWeights jump = TranscoderWeights.random(2, 8, 4, 1, true, false);
    private final TranscoderWeights plain = TranscoderWeights.random(2, 8, 4, 2, false, false);

    @Test
    void gemmaScopeWithoutAConfig() {
        assertLocalScan(new GemmaScopeNpzProvider(), FormatWriters.gemmaPlain(dir.resolve("gemma"), jump,
                FormatWriters.GemmaLayout.DIRECTORY, false));
    }

    @Test
    void saeLensRelease() {
        assertLocalScan(new SaeLensProvider(), FormatWriters.saeLens(dir.resolve("saelens"), jump,
                "jumprelu_transcoder", (l, c) -> { }));
    }

    @Test
    void sparsifyCheckpoint() {
        assertLocalScan(new SparsifyProvider(), FormatWriters.sparsify(dir.resolve("sparsify"), plain, 2,
                (l, c) -> { }));
    }

    @Test
    void aScanOptionIsKept() {
        Path sparsify = FormatWriters.sparsify(dir.resolve("sparsify"), plain, 2, (l, c) -> { });
        try (SparseDictionary d = new SparsifyProvider().create(new DictionarySource(sparsify, false, true,
                Map.of(FormatOptions.SCAN, "org/some-transcoders")))) {
            assertThat(d.scan()).isEqualTo("org/some-transcoders");
        }
    }

    private static void assertLocalScan(DictionaryFormatProvider provider, Path directory) {
        Path relative = Path.of("").toAbsolutePath().relativize(directory.toAbsolutePath());
        for (Path name : new Path[] {directory, relative.resolve("."), directory.resolve("..")
                .resolve(directory.getFileName())}) {
            try (SparseDictionary d = provider.create(DictionarySource.of(name))) {
                assertThat(d.scan()).as(provider.name() + " opened as " + name)
                        .isEqualTo(directory.toAbsolutePath().normalize().toString()).startsWith("/");
            }
        }
    }
}

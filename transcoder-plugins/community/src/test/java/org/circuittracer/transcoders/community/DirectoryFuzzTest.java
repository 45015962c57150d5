package org.circuittracer.transcoders.community;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.circuittracer.safetensors.DType;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.circuittracer.transcoders.gemmascope.GemmaScope2Provider;
import org.circuittracer.transcoders.gemmascope.GemmaScopeNpzProvider;
import org.circuittracer.transcoders.saelens.SaeLensProvider;
import org.circuittracer.transcoders.sparsify.SparsifyProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole directories of each community format opened through its provider, with one file of layer 0 mutated: its
 * config, its weights (files outside the directory watched). A dictionary per case: 10% of {@code -Dfuzz.cases} per
 * file, 500 cases by default. docs/develop/fuzzing.md.
 */
class DirectoryFuzzTest {

    private static final TranscoderWeights WEIGHTS = TranscoderWeights.random(2, 8, 4, 7, true, false);

    /** Mutates {@code relative} in copies of {@code source} and opens each copy with {@code provider}. */
    private static void fuzz(String name, DictionaryFormatProvider provider, Path source, String relative, boolean text)
            throws IOException {
        Fuzzer fuzzer = Fuzzer.named(name + " (" + relative + ")").share(0.1).watchFiles()
                .seeds(List.of(Files.readAllBytes(source.resolve(relative))));
        if (text) {
            fuzzer.text();
        }
        Fuzzer.Result r = fuzzer.run((input, dir) -> {
            copyTree(source, dir);
            Files.write(dir.resolve(relative), input);
            try (SparseDictionary d = provider.create(DictionarySource.of(dir))) {
                assertThat(d.layers()).isPositive();
            }
        });
        r.assertSomeRejected();
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.naturalOrder())::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    @Test
    void saeLens(@TempDir Path tmp) throws IOException {
        Path dir = FormatWriters.saeLens(tmp.resolve("saelens"), WEIGHTS, "jumprelu_transcoder", (l, c) -> { });
        String layer = "blocks.0.ln2.hook_normalized/";
        fuzz("SAELens directory", new SaeLensProvider(), dir, layer + "cfg.json", true);
        fuzz("SAELens directory", new SaeLensProvider(), dir, layer + "sae_weights.safetensors", false);
    }

    @Test
    void sparsify(@TempDir Path tmp) throws IOException {
        Path dir = FormatWriters.sparsify(tmp.resolve("sparsify"), WEIGHTS, 3, (l, c) -> { });
        fuzz("sparsify directory", new SparsifyProvider(), dir, "config.json", true);
        fuzz("sparsify directory", new SparsifyProvider(), dir, "layers.0.mlp/cfg.json", true);
        fuzz("sparsify directory", new SparsifyProvider(), dir, "layers.0.mlp/sae.safetensors", false);
    }

    @Test
    void gemmaScope2(@TempDir Path tmp) throws IOException {
        Path dir = FormatWriters.gemmaScope2(tmp.resolve("gs2"), WEIGHTS, DType.F32, (l, c) -> { });
        String layer = "layer_0_width_16k_l0_small/";
        fuzz("GemmaScope 2 directory", new GemmaScope2Provider(), dir, layer + "config.json", true);
        fuzz("GemmaScope 2 directory", new GemmaScope2Provider(), dir, layer + "params.safetensors", false);
    }

    @Test
    void gemmaScopeNpz(@TempDir Path tmp) throws IOException {
        Path dir = FormatWriters.gemmaPlain(tmp.resolve("gemma"), WEIGHTS, FormatWriters.GemmaLayout.DIRECTORY, false);
        fuzz("GemmaScope npz directory", new GemmaScopeNpzProvider(), dir, "layer_0/params.npz", false);
    }
}

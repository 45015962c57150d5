package org.circuittracer.transcoders.nativeformat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dictionary.json}, fuzzed with the testkit's harness (docs/develop/fuzzing.md). */
class ManifestFuzzTest {

    private static final List<byte[]> SEEDS = new ArrayList<>();
    private static final List<Path> CONVERTED = new ArrayList<>();

    @BeforeAll
    static void writeSeeds(@TempDir Path dir) throws Exception {
        int i = 0;
        for (Synthetic.Spec spec : List.of(Synthetic.Spec.plt(),
                new Synthetic.Spec(true, true, true, java.util.Optional.empty()))) {
            Path source = Synthetic.reference(dir.resolve("reference" + i), spec, 3);
            Path converted = dir.resolve("native" + i++);
            try (SparseDictionary original = Synthetic.openReference(source, spec.crossLayer())) {
                NativeFormatWriter.write(original, converted);
            }
            SEEDS.add(Files.readAllBytes(converted.resolve(Manifest.FILE_NAME)));
            CONVERTED.add(converted);
        }
    }

    @Test
    void mutatedManifestsLoadOrFailWithCircuitTracerException() {
        Fuzzer.Result r = Fuzzer.named("native dictionary.json").text().seeds(SEEDS)
                .strings(List.of("circuit-tracer-dictionary", "plt", "clt", "relu", "topk", "jumprelu",
                        "layer_0.safetensors", "../layer_0.safetensors", "formatVersion", "checksums"))
                .run((input, dir) -> {
                    Files.write(dir.resolve(Manifest.FILE_NAME), input);
                    Manifest.read(dir);
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }

    /**
     * Whole directories opened through the provider, the manifest or layer 0's file mutated (files outside watched). A
     * dictionary per case: 10% of {@code -Dfuzz.cases} per file, 500 cases by default.
     */
    @Test
    void directoriesWithAMutatedFileOpenOrFailWithCircuitTracerException() throws Exception {
        Path source = CONVERTED.get(1); // the cross-layer one, with thresholds and skips
        for (String mutated : List.of(Manifest.FILE_NAME, Manifest.layerFile(0))) {
            Fuzzer.Result r = Fuzzer.named("native directory (" + mutated + ")").share(0.1).watchFiles()
                    .seeds(List.of(Files.readAllBytes(source.resolve(mutated))))
                    .run((input, dir) -> {
                        try (java.util.stream.Stream<Path> files = Files.list(source)) {
                            for (Path p : (Iterable<Path>) files::iterator) {
                                Files.copy(p, dir.resolve(p.getFileName()));
                            }
                        }
                        Files.write(dir.resolve(mutated), input, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
                        try (SparseDictionary d = new NativeFormatProvider().create(
                                org.circuittracer.spi.dictionary.DictionarySource.of(dir))) {
                            assertThat(d.layers()).isPositive();
                        }
                    });
            r.assertSomeRejected();
        }
    }

    /** Found by the fuzzer: a manifest that is not UTF-8 was reported as FILE_NOT_FOUND ("Cannot read"). */
    @Test
    void aManifestThatIsNotUtf8IsMalformed(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve(Manifest.FILE_NAME), new byte[] {'{', '"', (byte) 0xFF, '"', '}'});
        assertThatThrownBy(() -> Manifest.read(dir)).isInstanceOfSatisfying(CircuitTracerException.class, e ->
                assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE));
    }
}

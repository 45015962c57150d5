package org.circuittracer.transcoders.reference;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.circuittracer.safetensors.DType;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.circuittracer.transcoders.common.ModelKind;
import org.circuittracer.transcoders.common.ReferenceConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole reference directories opened through the providers, with config.yaml or a layer file mutated (and files
 * outside the directory watched). A dictionary per case: 20% of {@code -Dfuzz.cases}, 1,000 cases per file by default.
 */
class DirectoryFuzzTest {

    private static final SyntheticTranscoders.Spec SPEC = new SyntheticTranscoders.Spec(2, 8, 4, DType.F32, true, false);

    private static void copyExcept(Path from, Path to, String skip) throws IOException {
        try (Stream<Path> files = Files.list(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                if (!p.getFileName().toString().equals(skip)) {
                    Files.copy(p, to.resolve(p.getFileName()));
                }
            }
        }
    }

    private static void open(DictionaryFormatProvider provider, Path dir) {
        try (SparseDictionary d = provider.create(DictionarySource.of(dir))) {
            assertThat(d.layers()).isPositive();
        }
    }

    @Test
    void perLayerSetsWithAMutatedFileOpenOrFailWithCircuitTracerException(@TempDir Path tmp) throws IOException {
        Path set = SyntheticTranscoders.perLayer(tmp.resolve("plt"),
                SyntheticTranscoders.config(ModelKind.TRANSCODER_SET), SPEC, 5);
        String layerFile;
        try (Stream<Path> files = Files.list(set)) {
            layerFile = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".safetensors")).sorted()
                    .findFirst().orElseThrow();
        }
        DictionaryFormatProvider plt = new ReferencePerLayerProvider();
        for (String mutated : List.of(ReferenceConfig.FILE_NAME, layerFile)) {
            Fuzzer.Result r = Fuzzer.named("reference directory (" + mutated + ")").share(0.2).watchFiles()
                    .seeds(List.of(Files.readAllBytes(set.resolve(mutated))))
                    .run((input, dir) -> {
                        copyExcept(set, dir, mutated);
                        Files.write(dir.resolve(mutated), input);
                        open(plt, dir);
                    });
            r.assertSomeRejected();
        }
    }
}

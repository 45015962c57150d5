package org.circuittracer.transcoders.sparsify;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.circuittracer.transcoders.common.FormatOptions;
import org.circuittracer.transcoders.common.JsonFiles;
import org.junit.jupiter.api.Test;

/** sparsify's {@code cfg.json} and training {@code config.json}, fuzzed (docs/develop/fuzzing.md). */
class SparsifyConfigFuzzTest {

    private static final String RUN = "{\"sae\": {\"transcode\": true, \"k\": 8}, \"batch_size\": 8}";
    private static final List<String> SEEDS = List.of(
            "{\"activation\": \"topk\", \"expansion_factor\": 32, \"normalize_decoder\": true, \"num_latents\": 64, "
                    + "\"k\": 8, \"multi_topk\": false, \"skip_connection\": false, \"transcode\": true, \"d_in\": 16}",
            "{\"expansion_factor\": 32, \"normalize_decoder\": true, \"num_latents\": 0, \"k\": 32, "
                    + "\"multi_topk\": false, \"skip_connection\": true, \"d_in\": 16}",
            "{\"activation\": \"groupmax\", \"num_latents\": 64, \"k\": 8, \"transcode\": true, \"d_in\": 16, "
                    + "\"n_targets\": 2}");

    @Test
    void mutatedConfigsLoadOrFailWithCircuitTracerException() {
        Fuzzer.Result r = Fuzzer.named("sparsify cfg.json").text().seedTexts(SEEDS)
                .strings(List.of("topk", "groupmax", "batchtopk", "transcode", "num_latents", "k", "d_in"))
                .run((input, dir) -> {
                    Path member = Files.createDirectories(dir.resolve("layers.0.mlp"));
                    Files.write(member.resolve(SparsifyTranscoder.CONFIG), input);
                    Files.writeString(dir.resolve(SparsifyTranscoder.RUN_CONFIG), RUN);
                    SparsifyTranscoder.read(member, options(dir),
                            Optional.of(JsonFiles.read(dir.resolve(SparsifyTranscoder.RUN_CONFIG))));
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }

    @Test
    void mutatedTrainingConfigsLoadOrFailWithCircuitTracerException() {
        Fuzzer.Result r = Fuzzer.named("sparsify config.json").text()
                .seedTexts(List.of(RUN, "{\"sae\": {\"transcode\": true, \"k\": 8, \"cross_layer\": 0}, "
                        + "\"hookpoints\": [\"layers.0.mlp\", \"layers.1.mlp\"]}"))
                .run((input, dir) -> {
                    Path member = Files.createDirectories(dir.resolve("layers.0.mlp"));
                    Files.writeString(member.resolve(SparsifyTranscoder.CONFIG), SEEDS.get(0));
                    Files.write(dir.resolve(SparsifyTranscoder.RUN_CONFIG), input);
                    SparsifyTranscoder.read(member, options(dir),
                            Optional.of(JsonFiles.read(dir.resolve(SparsifyTranscoder.RUN_CONFIG))));
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }

    /** Found by the fuzzer: d_in × expansion_factor above Integer.MAX_VALUE threw ArithmeticException. */
    @Test
    void anOverflowingLatentCountIsMalformed(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path member = Files.createDirectories(dir.resolve("layers.0.mlp"));
        Files.writeString(member.resolve(SparsifyTranscoder.CONFIG), "{\"activation\": \"topk\", \"k\": 8, "
                + "\"transcode\": true, \"d_in\": 2147483647, \"expansion_factor\": 32}");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SparsifyTranscoder.read(member, options(dir),
                        Optional.empty()))
                .isInstanceOfSatisfying(org.circuittracer.spi.CircuitTracerException.class, e -> assertThat(
                        e.errorCode()).isEqualTo(org.circuittracer.spi.StandardErrorCode.MALFORMED_FILE))
                .hasMessageContaining("give num_latents");
    }

    /** Found by the fuzzer: k above the number of latents failed with IllegalArgumentException when opened. */
    @Test
    void aKAboveTheLatentsIsMalformed(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path member = Files.createDirectories(dir.resolve("layers.0.mlp"));
        Files.writeString(member.resolve(SparsifyTranscoder.CONFIG), "{\"activation\": \"topk\", \"k\": 2147483647, "
                + "\"transcode\": true, \"d_in\": 4, \"num_latents\": 8}");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SparsifyTranscoder.read(member, options(dir),
                        Optional.empty()))
                .isInstanceOf(org.circuittracer.spi.CircuitTracerException.class)
                .hasMessageContaining("TopK keeps at most");
    }

    private static FormatOptions options(Path dir) {
        return FormatOptions.of(new DictionarySource(dir, true, true, Map.of()), SparsifyProvider.NAME);
    }
}

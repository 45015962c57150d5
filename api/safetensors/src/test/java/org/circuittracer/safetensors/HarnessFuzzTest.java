package org.circuittracer.safetensors;


import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.junit.jupiter.api.Test;

/**
 * The safetensors reader under the shared harness (docs/develop/fuzzing.md): its generic mutations, per-case time
 * limit and dumps, on {@link FuzzTest}'s seeds and with its read-everything check; {@link FuzzTest} keeps the
 * mutations specific to the format (header length, dtypes, offsets). 40% of {@code -Dfuzz.cases} (a file mapped per
 * case): 2,000 cases by default.
 */
class HarnessFuzzTest {

    @Test
    void mutatedFilesOpenOrFailWithCircuitTracerException() {
        List<byte[]> seeds = FuzzTest.seeds();
        Fuzzer.Result r = Fuzzer.named("safetensors").seeds(seeds).share(0.4)
                .strings(List.of("dtype", "shape", "data_offsets", "__metadata__", "F32", "BF16", "I64", "C64"))
                .run((input, dir) -> {
                    Path p = dir.resolve("fuzz.safetensors");
                    Files.write(p, input);
                    FuzzTest.exercise(p);
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }
}

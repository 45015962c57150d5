package org.circuittracer.attribution.graphfile;


import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Our graph file ({@link GraphFile#load}), fuzzed with the testkit's harness (docs/develop/fuzzing.md). */
class GraphFileFuzzTest {

    @Test
    void mutatedGraphFilesLoadOrFailWithCircuitTracerException(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("seed.safetensors");
        GraphFile.save(GraphFileTest.handMade(), file);
        byte[] seed = Files.readAllBytes(file);
        Fuzzer.Result r = Fuzzer.named("graph file").seeds(List.of(seed))
                .strings(List.of("circuit-tracer-graph", "format_version", "model", "layers", "edges"))
                .run((input, dir) -> {
                    Path f = dir.resolve("graph.safetensors");
                    Files.write(f, input);
                    GraphFile.load(f);
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }
}

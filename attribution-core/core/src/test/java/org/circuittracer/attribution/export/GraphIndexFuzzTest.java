package org.circuittracer.attribution.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.circuittracer.testkit.fuzz.Fuzzer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code graph-metadata.json} ({@link GraphIndex}): reading a mutated index, and adding a graph to it, which writes
 * the directory (so files outside it are watched too). docs/develop/fuzzing.md.
 */
class GraphIndexFuzzTest {

    private static ObjectNode entry(String slug) {
        ObjectNode m = JsonNodeFactory.instance.objectNode();
        m.put("slug", slug).put("scan", "tiny/llama").put("prompt", "Fact: the capital of Texas is")
                .put("node_threshold", 0.8).put("edge_threshold", 0.98);
        m.putArray("prompt_tokens").add("Fact").add(":").add(" the");
        return m;
    }

    @Test
    void mutatedIndexesReadAndUpdateOrFailWithCircuitTracerException(@TempDir Path tmp) throws Exception {
        GraphIndex.upsert(tmp, entry("austin"));
        byte[] one = Files.readAllBytes(tmp.resolve(GraphJsonExporter.INDEX_FILE));
        GraphIndex.upsert(tmp, entry("dallas \"quoted\" ✓"));
        byte[] two = Files.readAllBytes(tmp.resolve(GraphJsonExporter.INDEX_FILE));
        Fuzzer.Result r = Fuzzer.named("graph-metadata.json").text().seeds(List.of(one, two)).watchFiles()
                .strings(List.of("graphs", "slug", "austin", "../x"))
                .run((input, dir) -> {
                    Path file = dir.resolve(GraphJsonExporter.INDEX_FILE);
                    Files.write(file, input);
                    GraphIndex.read(file);
                    GraphIndex.upsert(dir, entry("austin"));
                    assertThat(GraphIndex.read(file).get("graphs")).isNotEmpty();
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }
}

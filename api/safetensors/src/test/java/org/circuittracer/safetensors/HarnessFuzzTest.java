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
 * case): 2,000 cases by default; and the index of sharded checkpoints.
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

    /**
     * {@code model.safetensors.index.json} of a sharded checkpoint, beside two valid shards: opened through the model
     * directory, every tensor it names read. Files are watched: shard names such as {@code ../outside.txt} must not
     * reach a file outside the directory. 20% of {@code -Dfuzz.cases} (three files written and the directory walked per
     * case). A shard the mutated index names but the directory lacks is FILE_NOT_FOUND, naming it.
     */
    @Test
    void mutatedShardIndexesOpenOrFailWithCircuitTracerException() {
        String shard1 = "model-00001-of-00002.safetensors";
        String shard2 = "model-00002-of-00002.safetensors";
        byte[] first = new SafetensorsWriter().metadata("format", "pt")
                .addFloats("model.embed_tokens.weight", new long[] {3, 2}, new float[] {1, 2, 3, 4, 5, 6})
                .addFloats("model.layers.0.mlp.up_proj.weight", new long[] {2, 2}, new float[] {7, 8, 9, 10})
                .toByteArray();
        byte[] second = new SafetensorsWriter().metadata("format", "pt")
                .addFloats("lm_head.weight", new long[] {3, 2}, new float[] {-1, -2, -3, -4, -5, -6}).toByteArray();
        String index = "{\"metadata\": {\"total_size\": 64, \"format\": \"pt\"}, \"weight_map\": {"
                + "\"lm_head.weight\": \"" + shard2 + "\", \"model.embed_tokens.weight\": \"" + shard1 + "\", "
                + "\"model.layers.0.mlp.up_proj.weight\": \"" + shard1 + "\"}}";
        Fuzzer.Result r = Fuzzer.named("safetensors sharded index").text().seedTexts(List.of(index)).share(0.2)
                .watchFiles()
                .strings(List.of("weight_map", "metadata", "total_size", shard1, shard2, "lm_head.weight",
                        "model.safetensors", "."))
                .run((input, dir) -> {
                    Files.write(dir.resolve(shard1), first);
                    Files.write(dir.resolve(shard2), second);
                    Files.write(dir.resolve(ShardedCheckpoint.INDEX_FILE), input);
                    try (ShardedCheckpoint c = ShardedCheckpoint.open(dir)) {
                        for (String name : c.names()) {
                            c.info(name);
                            c.readFloats(name);
                        }
                    }
                });
        r.assertSomeLoaded();
        r.assertSomeRejected();
    }
}

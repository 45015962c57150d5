package org.circuittracer.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedCheckpointTest {

    private static final String SHARD1 = "model-00001-of-00002.safetensors";
    private static final String SHARD2 = "model-00002-of-00002.safetensors";

    @TempDir
    Path dir;

    @BeforeEach
    void writeShards() {
        new SafetensorsWriter().metadata("format", "pt")
                .addFloats("model.embed_tokens.weight", new long[] {3, 2}, new float[] {1, 2, 3, 4, 5, 6})
                .addFloats("model.layers.0.mlp.up_proj.weight", new long[] {2, 2}, new float[] {7, 8, 9, 10})
                .write(dir.resolve(SHARD1));
        new SafetensorsWriter().metadata("format", "pt")
                .addFloats("lm_head.weight", new long[] {3, 2}, new float[] {-1, -2, -3, -4, -5, -6})
                .addLongs("extra.not.in.index", DType.I64, new long[] {1}, new long[] {1})
                .write(dir.resolve(SHARD2));
    }

    private Path index(String json) throws IOException {
        return Files.writeString(dir.resolve(ShardedCheckpoint.INDEX_FILE), json);
    }

    private static String validIndex() {
        return "{\"metadata\": {\"total_size\": 64, \"format\": \"pt\"}, \"weight_map\": {"
                + "\"lm_head.weight\": \"" + SHARD2 + "\", "
                + "\"model.embed_tokens.weight\": \"" + SHARD1 + "\", "
                + "\"model.layers.0.mlp.up_proj.weight\": \"" + SHARD1 + "\"}}";
    }

    private SafetensorsFormatException rejected(Path path, SafetensorsFormatException.Kind kind, String... fragments) {
        SafetensorsFormatException e = catchThrowableOfType(SafetensorsFormatException.class, () -> {
            try (ShardedCheckpoint c = ShardedCheckpoint.open(path)) {
                c.names();
            }
        });
        assertThat(e).isNotNull();
        assertThat(e.kind()).as(e.getMessage()).isEqualTo(kind);
        assertThat(e.getMessage()).contains(fragments);
        return e;
    }

    @Test
    void looksUpTensorsAcrossShards() throws Exception {
        index(validIndex());
        try (ShardedCheckpoint c = ShardedCheckpoint.open(dir)) {
            assertThat(c.indexFile()).contains(dir.resolve(ShardedCheckpoint.INDEX_FILE).toAbsolutePath());
            assertThat(c.names()).containsExactly("lm_head.weight", "model.embed_tokens.weight",
                    "model.layers.0.mlp.up_proj.weight");
            assertThat(c.shards()).extracting(SafetensorsFile::path)
                    .containsExactly(dir.resolve(SHARD2).toAbsolutePath(), dir.resolve(SHARD1).toAbsolutePath());
            assertThat(c.metadata()).containsExactly(Map.entry("total_size", "64"), Map.entry("format", "pt"));
            assertThat(c.readFloats("lm_head.weight")).containsExactly(-1, -2, -3, -4, -5, -6);
            assertThat(c.gatherRows("model.embed_tokens.weight", new int[] {2, 0})).containsExactly(5, 6, 1, 2);
            assertThat(c.info("model.layers.0.mlp.up_proj.weight").shape()).containsExactly(2, 2);
            assertThat(c.fileOf("lm_head.weight").getFileName().toString()).isEqualTo(SHARD2);
            assertThat(c.contains("extra.not.in.index")).isFalse();
            SafetensorsFormatException e = catchThrowableOfType(SafetensorsFormatException.class,
                    () -> c.readFloats("model.norm.weight"));
            assertThat(e.kind()).isEqualTo(SafetensorsFormatException.Kind.MISSING_TENSOR);
            assertThat(e.getMessage()).contains("\"model.norm.weight\"", "3 tensors");
        }
        // the index file itself can be opened too
        try (ShardedCheckpoint c = ShardedCheckpoint.open(dir.resolve(ShardedCheckpoint.INDEX_FILE))) {
            assertThat(c.names()).hasSize(3);
        }
    }

    @Test
    void opensSingleFileCheckpoints() {
        new SafetensorsWriter().metadata("format", "pt").addFloats("w", new long[] {1}, new float[] {4})
                .write(dir.resolve(ShardedCheckpoint.SINGLE_FILE));
        try (ShardedCheckpoint c = ShardedCheckpoint.open(dir)) { // model.safetensors wins over stray shards
            assertThat(c.indexFile()).isEmpty();
            assertThat(c.names()).containsExactly("w");
            assertThat(c.metadata()).isEqualTo(Map.of("format", "pt"));
            assertThat(c.readFloats("w")).containsExactly(4f);
        }
        try (ShardedCheckpoint c = ShardedCheckpoint.open(dir.resolve(SHARD2))) {
            // header order: the writer's default (Python) order puts I64 before F32
            assertThat(c.names()).containsExactly("extra.not.in.index", "lm_head.weight");
        }
    }

    @Test
    void missingShard() throws Exception {
        index(validIndex());
        Files.delete(dir.resolve(SHARD2));
        SafetensorsFormatException e = rejected(dir, SafetensorsFormatException.Kind.NOT_FOUND, SHARD2,
                "incomplete", "lm_head.weight");
        assertThat(e.file()).isEqualTo(dir.resolve(ShardedCheckpoint.INDEX_FILE));
    }

    @Test
    void tensorListedInTheIndexButAbsentFromItsShard() throws Exception {
        index(validIndex().replace("\"lm_head.weight\": \"" + SHARD2, "\"lm_head.weight\": \"" + SHARD1));
        SafetensorsFormatException e = rejected(dir, SafetensorsFormatException.Kind.MISSING_TENSOR,
                "\"lm_head.weight\"", SHARD1, "do not match");
        assertThat(e.tensorName()).isEqualTo("lm_head.weight");
    }

    @Test
    void malformedIndexes() throws Exception {
        index("{\"weight_map\": {\"a\": \"x\"");
        rejected(dir, SafetensorsFormatException.Kind.BAD_INDEX, "not valid JSON", "byte");
        index("[1, 2]");
        rejected(dir, SafetensorsFormatException.Kind.BAD_INDEX, "JSON object");
        index("{\"metadata\": {}}");
        rejected(dir, SafetensorsFormatException.Kind.BAD_INDEX, "no \"weight_map\"");
        index("{\"weight_map\": [\"a\"]}");
        rejected(dir, SafetensorsFormatException.Kind.BAD_INDEX, "\"weight_map\" must be an object");
        index("{\"weight_map\": {}}");
        rejected(dir, SafetensorsFormatException.Kind.BAD_INDEX, "empty");
        index("{\"weight_map\": {\"a\": 3}}");
        rejected(dir, SafetensorsFormatException.Kind.BAD_INDEX, "\"a\"", "a number");
        index("{\"metadata\": \"x\", \"weight_map\": {\"a\": \"" + SHARD1 + "\"}}");
        rejected(dir, SafetensorsFormatException.Kind.BAD_INDEX, "\"metadata\" must be an object");
        index("{\"weight_map\": {\"a\": \"x\", \"a\": \"y\"}}");
        rejected(dir, SafetensorsFormatException.Kind.BAD_INDEX, "duplicate key \"a\"");
        for (String escape : new String[] {"../" + SHARD1, "/etc/passwd", "", ".", "sub/../../x"}) {
            index("{\"weight_map\": {\"a\": \"" + escape + "\"}}");
            rejected(dir, SafetensorsFormatException.Kind.BAD_INDEX, "not a file name inside");
        }
    }

    @Test
    void brokenShardsReportTheirOwnProblem() throws Exception {
        index(validIndex());
        byte[] shard = TestSupport.read(dir.resolve(SHARD1));
        Files.write(dir.resolve(SHARD1), java.util.Arrays.copyOf(shard, shard.length - 4));
        SafetensorsFormatException e = rejected(dir, SafetensorsFormatException.Kind.TRUNCATED, "truncated");
        assertThat(e.file()).isEqualTo(dir.toAbsolutePath().resolve(SHARD1));
    }

    @Test
    void emptyOrMissingDirectories() throws Exception {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        rejected(empty, SafetensorsFormatException.Kind.NOT_FOUND, ShardedCheckpoint.SINGLE_FILE,
                ShardedCheckpoint.INDEX_FILE);
        rejected(dir.resolve("nope"), SafetensorsFormatException.Kind.NOT_FOUND, "no such file");
        // two candidate shards and no index: ambiguous
        rejected(dir, SafetensorsFormatException.Kind.NOT_FOUND, "candidates", SHARD1, SHARD2);
    }
}

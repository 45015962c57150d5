package org.circuittracer.safetensors;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads the shared fixtures written by Python's safetensors and re-writes them with our writer. */
class FixturesTest {

    private static final List<String> MODELS = List.of("gpt2", "llama", "gemma2", "qwen3");
    private Path fixtures;

    @BeforeEach
    void locateFixtures() {
        fixtures = TestSupport.fixtures("tiny-models");
    }

    private List<Path> allFixtureFiles() throws IOException {
        try (Stream<Path> s = Files.walk(fixtures)) {
            return s.filter(p -> p.toString().endsWith(".safetensors")).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void modelsHaveTheDocumentedTensors() {
        try (SafetensorsFile f = SafetensorsFile.open(fixtures.resolve("tiny-models/gpt2/model.safetensors"))) {
            assertThat(f.metadata()).isEqualTo(Map.of("format", "pt"));
            assertThat(f.info("transformer.wte.weight").shape()).containsExactly(128, 48);
            assertThat(f.info("transformer.wpe.weight").shape()).containsExactly(64, 48);
            assertThat(f.info("transformer.h.0.attn.c_attn.weight").shape()).containsExactly(48, 144);
            assertThat(f.info("transformer.h.0.mlp.c_proj.weight").shape()).containsExactly(192, 48);
            assertThat(f.contains("lm_head.weight")).isFalse();
            assertThat(f.names()).hasSize(4 + 3 * 12);
        }
        try (SafetensorsFile f = SafetensorsFile.open(fixtures.resolve("tiny-models/llama/model.safetensors"))) {
            assertThat(f.info("model.embed_tokens.weight").shape()).containsExactly(160, 64);
            assertThat(f.info("model.layers.0.self_attn.k_proj.weight").shape()).containsExactly(32, 64);
            assertThat(f.info("lm_head.weight").shape()).containsExactly(160, 64);
        }
        try (SafetensorsFile f = SafetensorsFile.open(fixtures.resolve("tiny-models/qwen3/model.safetensors"))) {
            assertThat(f.info("model.layers.0.self_attn.q_norm.weight").shape()).containsExactly(24);
            assertThat(f.info("model.layers.0.self_attn.q_proj.weight").shape()).containsExactly(96, 64);
        }
        for (String model : MODELS) {
            try (ShardedCheckpoint c = ShardedCheckpoint.open(fixtures.resolve("tiny-models/" + model))) {
                assertThat(c.metadata()).isEqualTo(Map.of("format", "pt"));
                for (String n : c.names()) {
                    assertThat(c.info(n).dtype()).isEqualTo(DType.F32);
                    assertThat(c.readFloats(n)).hasSize((int) c.info(n).numel());
                }
            }
        }
    }

    @Test
    void goldensMatchGoldenJson() throws Exception {
        for (String model : MODELS) {
            Path dir = fixtures.resolve("tiny-models/" + model);
            byte[] json = Files.readAllBytes(dir.resolve("golden.json"));
            Map<?, ?> golden = (Map<?, ?>) Json.parse(json, json.length, 1 << 20);
            Map<?, ?> tensors = (Map<?, ?>) golden.get("tensors");
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("golden.safetensors"))) {
                assertThat(f.names()).containsExactlyInAnyOrderElementsOf(tensors.keySet().stream()
                        .map(String.class::cast).collect(Collectors.toList()));
                for (Map.Entry<?, ?> e : tensors.entrySet()) {
                    Map<?, ?> desc = (Map<?, ?>) e.getValue();
                    TensorInfo t = f.info((String) e.getKey());
                    DType expected = switch ((String) desc.get("dtype")) {
                        case "int64" -> DType.I64;
                        case "float32" -> DType.F32;
                        default -> throw new AssertionError(desc);
                    };
                    assertThat(t.dtype()).isEqualTo(expected);
                    long[] shape = ((List<?>) desc.get("shape")).stream()
                            .mapToLong(n -> Long.parseLong(((Json.Num) n).text())).toArray();
                    assertThat(t.shape()).as(t.name()).containsExactly(shape);
                }
                for (Object p : (List<?>) golden.get("prompts")) {
                    Map<?, ?> prompt = (Map<?, ?>) p;
                    long[] ids = ((List<?>) prompt.get("input_ids")).stream()
                            .mapToLong(n -> Long.parseLong(((Json.Num) n).text())).toArray();
                    String name = "p" + ((Json.Num) prompt.get("index")).text() + ".input_ids";
                    assertThat(f.readLongs(name)).containsExactly(ids);
                    assertThat(f.readInts(name)).containsExactly(Arrays.stream(ids).mapToInt(x -> (int) x).toArray());
                }
            }
        }
    }

    @Test
    void transcodersHaveTheDocumentedLayout() {
        Path clt = fixtures.resolve("tiny-transcoders/llama-clt-relu");
        for (int i = 0; i < 4; i++) {
            try (SafetensorsFile dec = SafetensorsFile.open(clt.resolve("W_dec_" + i + ".safetensors"));
                 SafetensorsFile enc = SafetensorsFile.open(clt.resolve("W_enc_" + i + ".safetensors"))) {
                TensorInfo w = dec.info("W_dec_" + i);
                assertThat(w.shape()).containsExactly(64, 4 - i, 64);
                assertThat(enc.info("W_enc_" + i).shape()).containsExactly(64, 64);
                assertThat(enc.names()).containsExactlyInAnyOrder("W_enc_" + i, "b_enc_" + i, "b_dec_" + i);
                // features 3 and 60, output layer i + k: the slice [k*64, (k+1)*64) of their rows
                float[] full = dec.readFloats(w.name());
                int rowLength = (4 - i) * 64;
                for (int k = 0; k < 4 - i; k++) {
                    float[] got = dec.gatherRowSlices(w.name(), new int[] {60, 3}, k * 64L, 64);
                    assertThat(Arrays.copyOfRange(got, 0, 64))
                            .containsExactly(Arrays.copyOfRange(full, 60 * rowLength + k * 64, 60 * rowLength + k * 64 + 64));
                    assertThat(Arrays.copyOfRange(got, 64, 128))
                            .containsExactly(Arrays.copyOfRange(full, 3 * rowLength + k * 64, 3 * rowLength + k * 64 + 64));
                }
            }
        }
        try (SafetensorsFile l0 = SafetensorsFile.open(
                fixtures.resolve("tiny-transcoders/gemma2-plt-jumprelu/layer_0.safetensors"))) {
            assertThat(l0.info("W_enc").shape()).containsExactly(96, 48);
            assertThat(l0.info("W_dec").shape()).containsExactly(96, 48);
            assertThat(l0.info("activation_function.threshold").shape()).containsExactly(96);
            float[] wDec = l0.readFloats("W_dec");
            assertThat(l0.gatherRows("W_dec", new int[] {95, 0}))
                    .startsWith(Arrays.copyOfRange(wDec, 95 * 48, 96 * 48))
                    .endsWith(Arrays.copyOfRange(wDec, 0, 48));
        }
        try (SafetensorsFile skip = SafetensorsFile.open(
                fixtures.resolve("tiny-transcoders/llama-plt-relu-skip/layer_2.safetensors"))) {
            assertThat(skip.info("W_skip").shape()).containsExactly(64, 64);
        }
    }

    /**
     * Re-writes every fixture with our writer. Observed: the fixtures list tensors sorted by name only (the
     * goldens put F32 before I64, unlike the current Python library, which sorts I64 first) and put
     * {@code __metadata__} last (the current library writes it first). So with {@link SafetensorsWriter.Order#NAME}
     * the fixtures without metadata (goldens, transcoders) are reproduced byte for byte; for the model files
     * (metadata {"format":"pt"}) the only difference is where {@code __metadata__} sits in the header
     * (and hence the space padding); tensor bytes are always identical.
     */
    @Test
    void ourWriterReproducesTheFixtures(@TempDir Path scratch) throws Exception {
        List<Path> files = allFixtureFiles();
        assertThat(files).hasSizeGreaterThanOrEqualTo(40);
        for (Path p : files) {
            byte[] original = TestSupport.read(p);
            byte[] ours;
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                SafetensorsWriter w = new SafetensorsWriter().order(SafetensorsWriter.Order.NAME).metadata(f.metadata());
                f.names().forEach(n -> w.copy(f, n));
                ours = w.toByteArray();
                Path copy = TestSupport.write(scratch, "copy.safetensors", ours);
                try (SafetensorsFile g = SafetensorsFile.open(copy)) {
                    assertThat(g.metadata()).isEqualTo(f.metadata());
                    assertThat(g.names()).containsExactlyElementsOf(f.names());
                    for (String n : f.names()) {
                        assertThat(g.info(n)).isEqualTo(f.info(n));
                        assertThat(TestSupport.bytesOf(g.bytes(n))).isEqualTo(TestSupport.bytesOf(f.bytes(n)));
                    }
                }
                Files.delete(copy);

                if (f.metadata().isEmpty()) {
                    assertThat(ours).as("%s byte-identical", p).isEqualTo(original);
                } else {
                    String theirs = header(original).stripTrailing();
                    String meta = ",\"__metadata__\":{\"format\":\"pt\"}";
                    assertThat(theirs).endsWith(meta + "}");
                    String moved = "{\"__metadata__\":{\"format\":\"pt\"}," + theirs.substring(1, theirs.length()
                            - meta.length() - 1) + "}";
                    assertThat(header(ours).stripTrailing()).isEqualTo(moved);
                    int dataLength = (int) (original.length - f.dataOffset());
                    assertThat(Arrays.copyOfRange(ours, ours.length - dataLength, ours.length))
                            .isEqualTo(Arrays.copyOfRange(original, original.length - dataLength, original.length));
                }
            }
        }
    }

    private static String header(byte[] file) {
        long n = java.nio.ByteBuffer.wrap(file).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
        return new String(file, 8, (int) n, StandardCharsets.UTF_8);
    }
}

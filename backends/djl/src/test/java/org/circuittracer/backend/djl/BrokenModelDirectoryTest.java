package org.circuittracer.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.ErrorCode;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.Precision;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model directories with something wrong fail with the right code and a message that says what and where. */
class BrokenModelDirectoryTest {

    private final DjlBackendProvider provider = new DjlBackendProvider();

    @TempDir
    Path dir;

    @Test
    void anUnknownArchitectureListsTheSupportedOnes() throws IOException {
        TinyModels.copy("llama", dir);
        editConfig(s -> s.replace("LlamaForCausalLM", "MambaForCausalLM"));
        assertThat(provider.recognize(dir).matches()).isFalse();
        expect(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "MambaForCausalLM", "GPT2LMHeadModel",
                "LlamaForCausalLM", "Gemma2ForCausalLM", "Qwen3ForCausalLM");
    }

    @Test
    void aMissingOrMalformedConfigNamesTheFileAndTheField() throws IOException {
        TinyModels.copy("llama", dir);
        assertThat(provider.recognize(dir).matches()).isTrue();
        editConfig(s -> s.replace("\"hidden_size\": 64,", ""));
        expect(StandardErrorCode.MALFORMED_FILE, "config.json", "hidden_size");

        editConfig(s -> s.replace("\"architectures\"", "\"architecture\""));
        expect(StandardErrorCode.MALFORMED_FILE, "config.json", "architectures");

        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"LlamaForCausalLM\"], ");
        assertThat(provider.recognize(dir).matches()).isFalse();
        expect(StandardErrorCode.MALFORMED_FILE, "config.json", "not valid JSON");

        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"GPT2LMHeadModel\"], \"n_embd\": -3}");
        expect(StandardErrorCode.MALFORMED_FILE, "\"n_embd\" must be a positive integer");

        Files.delete(dir.resolve("config.json"));
        expect(StandardErrorCode.FILE_NOT_FOUND, "config.json", dir.toString());
    }

    @Test
    void anUnsupportedVariantOfAnArchitectureIsNamed() throws IOException {
        TinyModels.copy("llama", dir);
        editConfig(s -> s.replace("\"llama3\"", "\"yarn\""));
        expect(StandardErrorCode.UNSUPPORTED_ARCHITECTURE, "rope_scaling", "yarn", "llama3");
    }

    @Test
    void aMissingTensorIsNamedWithItsExpectedShape() {
        TinyModels.copy("llama", dir);
        rewriteWeights(Map.of("model.layers.1.mlp.up_proj.weight", List.of()));
        expect(StandardErrorCode.MALFORMED_FILE, "model.layers.1.mlp.up_proj.weight", "[128, 64]");
    }

    @Test
    void aMisshapedTensorIsNamedWithBothShapes() {
        TinyModels.copy("qwen3", dir);
        rewriteWeights(Map.of("model.layers.2.self_attn.k_norm.weight", List.of(12L, 2L)));
        expect(StandardErrorCode.MALFORMED_FILE, "model.layers.2.self_attn.k_norm.weight", "[12, 2]", "[24]");
    }

    @Test
    void missingWeightsAreAFileNotFound() throws IOException {
        TinyModels.copy("gemma2", dir);
        Files.delete(dir.resolve("model.safetensors"));
        expect(StandardErrorCode.FILE_NOT_FOUND, "model.safetensors");
    }

    @Test
    void optionsAndDevicesTheBackendLacksAreRejected() {
        Path llama = TinyModels.directory("llama");
        assertThatThrownBy(() -> provider.create(new ModelSource(llama, Precision.FLOAT32, "auto", Map.of("x", "1"))))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                .hasMessageContaining("no options");
        assertThatThrownBy(() -> provider.create(new ModelSource(llama, Precision.FLOAT32, "gpu:0", Map.of())))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MISSING_CAPABILITY))
                .hasMessageContaining("CUDA");
    }

    @Test
    void gpt2WeightsWithoutTheTransformerPrefixLoadTheSame() {
        TinyModels.copy("gpt2", dir);
        rewriteWeights(name -> name.replaceFirst("^transformer\\.", ""));
        try (TransformerModel prefixed = TinyModels.open("gpt2");
             TransformerModel bare = TinyModels.open(dir, Precision.FLOAT32);
             NDManager manager = NDManager.newBaseManager()) {
            var prompt = TinyModels.prompt("gpt2", 1);
            assertThat(bare.forward(manager, prompt, List.of()).logits().toFloatArray())
                    .containsExactly(prefixed.forward(manager, prompt, List.of()).logits().toFloatArray());
        }
    }

    @Test
    void aShardedCheckpointLoadsTheSame() throws IOException {
        TinyModels.copy("qwen3", dir);
        Path single = TinyModels.directory("qwen3").resolve("model.safetensors");
        StringBuilder index = new StringBuilder("{\"metadata\": {}, \"weight_map\": {");
        try (SafetensorsFile file = SafetensorsFile.open(single)) {
            SafetensorsWriter[] shards = {new SafetensorsWriter(), new SafetensorsWriter()};
            List<String> names = file.names();
            for (int i = 0; i < names.size(); i++) {
                int shard = i < names.size() / 2 ? 0 : 1;
                shards[shard].copy(file, names.get(i));
                index.append(i == 0 ? "" : ", ").append('"').append(names.get(i)).append("\": \"model-0000")
                        .append(shard + 1).append("-of-00002.safetensors\"");
            }
            shards[0].write(dir.resolve("model-00001-of-00002.safetensors"));
            shards[1].write(dir.resolve("model-00002-of-00002.safetensors"));
        }
        Files.writeString(dir.resolve("model.safetensors.index.json"), index.append("}}").toString());
        Files.delete(dir.resolve("model.safetensors"));
        try (TransformerModel sharded = TinyModels.open(dir, Precision.FLOAT32);
             TransformerModel whole = TinyModels.open("qwen3");
             NDManager manager = NDManager.newBaseManager()) {
            var prompt = TinyModels.prompt("qwen3", 0);
            assertThat(sharded.forward(manager, prompt, List.of()).logits().toFloatArray())
                    .containsExactly(whole.forward(manager, prompt, List.of()).logits().toFloatArray());
        }
    }

    private void editConfig(UnaryOperator<String> edit) throws IOException {
        Path config = dir.resolve("config.json");
        Files.writeString(config, edit.apply(Files.readString(config)));
    }

    /** Rewrites model.safetensors, dropping tensors mapped to an empty shape and reshaping the others listed. */
    private void rewriteWeights(Map<String, List<Long>> changes) {
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter writer = new SafetensorsWriter();
        try (SafetensorsFile original = SafetensorsFile.open(TinyModels.directory(architectureOf())
                .resolve("model.safetensors"))) {
            for (String name : original.names()) {
                List<Long> shape = changes.get(name);
                if (shape == null) {
                    writer.copy(original, name);
                } else if (!shape.isEmpty()) {
                    writer.addFloats(name, shape.stream().mapToLong(Long::longValue).toArray(),
                            original.readFloats(name));
                }
            }
        }
        writer.write(file);
    }

    private void rewriteWeights(UnaryOperator<String> rename) {
        SafetensorsWriter writer = new SafetensorsWriter();
        try (SafetensorsFile original = SafetensorsFile.open(TinyModels.directory(architectureOf())
                .resolve("model.safetensors"))) {
            for (String name : original.names()) {
                var info = original.info(name);
                writer.add(rename.apply(name), info.dtype(), info.shape(), original.bytes(name));
            }
        }
        writer.write(dir.resolve("model.safetensors"));
    }

    private String architectureOf() {
        try {
            String config = Files.readString(dir.resolve("config.json"));
            return TinyModels.ARCHITECTURES.stream().filter(a -> config.contains("\"model_type\": \"" + a + "\""))
                    .findFirst().orElseThrow();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void expect(ErrorCode code, String... fragments) {
        ThrowingCallable open = () -> provider.create(ModelSource.of(dir)).close();
        assertThatThrownBy(open).isInstanceOfSatisfying(CircuitTracerException.class,
                e -> assertThat(e.errorCode()).isEqualTo(code)).message().contains(fragments);
    }
}

package org.circuittracer.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A multimodal Gemma 3 checkpoint ({@code Gemma3ForConditionalGeneration}) made from the tiny Gemma 3 fixture: the
 * language model's settings in {@code text_config} (fields equal to Hugging Face's defaults left out, as released
 * configs do), its weights under {@code language_model.model.} (or {@code model.language_model.}), a vision tower
 * beside them. The language model opens and equals the goldens; the image token is refused in prompts.
 */
class Gemma3MultimodalTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int IMAGE_TOKEN = 200; // inside the tiny vocabulary, so only the image check can refuse it

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"language_model.model.", "model.language_model."})
    void theLanguageModelOpensAndEqualsTheGoldens(String root) throws IOException {
        writeMultimodalCheckpoint(root);
        try (TransformerModel model = new DjlBackendProvider().create(ModelSource.of(dir));
             NDManager manager = NDManager.newBaseManager();
             SafetensorsFile golden = TinyModels.golden("gemma3")) {
            assertThat(model.config().architecture()).isEqualTo("Gemma3ForConditionalGeneration");
            assertThat(model.config().layers()).isEqualTo(4);
            for (int k = 0; k < 3; k++) {
                TokenSequence prompt = TinyModels.prompt("gemma3", k);
                TinyModels.assertClose(model.forward(manager, prompt, List.of()).logits(),
                        golden.readFloats("p" + k + ".logits"), 1e-4, 1e-4, "multimodal gemma3 logits p" + k);
            }
            TokenSequence withImage = new TokenSequence(new int[] {2, 17, IMAGE_TOKEN, 40});
            assertThatThrownBy(() -> model.forward(manager, withImage, List.of()))
                    .isInstanceOfSatisfying(CircuitTracerException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("token id " + IMAGE_TOKEN + " at position 2")
                    .hasMessageContaining("image token").hasMessageContaining("text-only prompt");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"language_model.model."})
    void aConfigWithoutTextConfigIsRefusedClearly(String root) throws IOException {
        writeMultimodalCheckpoint(root);
        ObjectNode config = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        config.remove("text_config");
        JSON.writeValue(dir.resolve("config.json").toFile(), config);
        assertThatThrownBy(() -> new DjlBackendProvider().create(ModelSource.of(dir)))
                .isInstanceOfSatisfying(CircuitTracerException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE))
                .hasMessageContaining("\"text_config\"");
    }

    private void writeMultimodalCheckpoint(String root) throws IOException {
        Path fixture = TinyModels.directory("gemma3");
        ObjectNode text = (ObjectNode) JSON.readTree(fixture.resolve("config.json").toFile());
        text.remove(List.of("architectures", "rms_norm_eps", "rope_theta", "rope_local_base_freq",
                "tie_word_embeddings", "hidden_activation", "torch_dtype", "layer_types"));
        // without layer_types the pattern decides: layer l is global iff (l + 1) % 3 == 0, as the fixture's list
        ObjectNode config = JSON.createObjectNode();
        config.putArray("architectures").add("Gemma3ForConditionalGeneration");
        config.put("model_type", "gemma3");
        config.set("text_config", text);
        config.putObject("vision_config").put("model_type", "siglip_vision_model").put("hidden_size", 8);
        config.put("image_token_index", IMAGE_TOKEN);
        config.put("mm_tokens_per_image", 4);
        JSON.writeValue(dir.resolve("config.json").toFile(), config);
        for (String file : List.of("tokenizer.json", "tokenizer_config.json")) {
            Files.copy(fixture.resolve(file), dir.resolve(file));
        }
        SafetensorsWriter writer = new SafetensorsWriter();
        try (SafetensorsFile original = SafetensorsFile.open(fixture.resolve("model.safetensors"))) {
            for (String name : original.names()) {
                var info = original.info(name);
                writer.add(root + name.substring("model.".length()), info.dtype(), info.shape(), original.bytes(name));
            }
        }
        writer.addFloats("vision_tower.vision_model.embeddings.patch_embedding.weight", new long[] {8, 3, 2, 2},
                new float[8 * 3 * 2 * 2]);
        writer.addFloats("multi_modal_projector.mm_input_projection_weight", new long[] {8, 56}, new float[8 * 56]);
        writer.write(dir.resolve("model.safetensors"));
    }
}

package org.circuittracer.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.circuittracer.safetensors.SafetensorsFile;
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
        Gemma3Multimodal.write(TinyModels.directory("gemma3"), dir, root, IMAGE_TOKEN);
    }
}

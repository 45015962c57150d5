package org.circuittracer.backend.djl;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.SafetensorsWriter;

/**
 * Writes a multimodal Gemma 3 checkpoint ({@code Gemma3ForConditionalGeneration}) around a text-only one: the language
 * model's settings in {@code text_config} (fields equal to Hugging Face's defaults left out, as released configs do),
 * its weights under {@code root} ({@code language_model.model.} or {@code model.language_model.}), and a small vision
 * tower and projector beside them. For tests of both backends (the onnx tests use this module's test jar).
 */
public final class Gemma3Multimodal {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Gemma3Multimodal() {
    }

    /**
     * @param textModel  a {@code Gemma3ForCausalLM} directory (config, weights, tokenizer)
     * @param target     an empty, writable directory
     * @param imageToken the {@code image_token_index} to declare
     */
    public static Path write(Path textModel, Path target, String root, int imageToken) throws IOException {
        ObjectNode text = (ObjectNode) JSON.readTree(textModel.resolve("config.json").toFile());
        text.remove(List.of("architectures", "rms_norm_eps", "rope_theta", "rope_local_base_freq",
                "tie_word_embeddings", "hidden_activation", "torch_dtype", "layer_types"));
        // without layer_types the pattern decides: layer l is global iff (l + 1) % 3 == 0, as the fixture's list
        ObjectNode config = JSON.createObjectNode();
        config.putArray("architectures").add("Gemma3ForConditionalGeneration");
        config.put("model_type", "gemma3");
        config.set("text_config", text);
        config.putObject("vision_config").put("model_type", "siglip_vision_model").put("hidden_size", 8);
        config.put("image_token_index", imageToken);
        config.put("mm_tokens_per_image", 4);
        JSON.writeValue(target.resolve("config.json").toFile(), config);
        for (String file : List.of("tokenizer.json", "tokenizer_config.json")) {
            Files.copy(textModel.resolve(file), target.resolve(file));
        }
        SafetensorsWriter writer = new SafetensorsWriter();
        try (SafetensorsFile original = SafetensorsFile.open(textModel.resolve("model.safetensors"))) {
            for (String name : original.names()) {
                var info = original.info(name);
                writer.add(root + name.substring("model.".length()), info.dtype(), info.shape(), original.bytes(name));
            }
        }
        int width = text.get("hidden_size").intValue();
        writer.addFloats("vision_tower.vision_model.embeddings.patch_embedding.weight", new long[] {8, 3, 2, 2},
                new float[8 * 3 * 2 * 2]);
        writer.addFloats("multi_modal_projector.mm_input_projection_weight", new long[] {8, width},
                new float[8 * width]);
        writer.write(target.resolve("model.safetensors"));
        return target;
    }
}

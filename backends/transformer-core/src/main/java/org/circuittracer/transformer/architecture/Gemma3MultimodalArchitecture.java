package org.circuittracer.transformer.architecture;

import java.util.Map;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.transformer.checkpoint.JsonConfig;
import org.circuittracer.transformer.checkpoint.WeightReader;
import org.circuittracer.transformer.decoder.Decoder;

/**
 * {@code Gemma3ForConditionalGeneration} (Gemma 3 4B and larger, pretrained and instruction-tuned): its language model
 * opens as {@link Gemma3Architecture} from {@code text_config} and the {@code language_model.*} weights; the vision
 * tower and projector are not loaded (said once, at load), and the image token is refused in prompts.
 */
public final class Gemma3MultimodalArchitecture implements Architecture {

    static final String NAME = "Gemma3ForConditionalGeneration";
    /** {@code Gemma3Config}'s default {@code image_token_index} ({@code <image_soft_token>}). */
    private static final int IMAGE_TOKEN = 262_144;
    private static final System.Logger LOG = System.getLogger(Gemma3MultimodalArchitecture.class.getName());

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ArchitectureConfig read(JsonConfig json) {
        JsonConfig text = json.object("text_config").orElseThrow(() -> json.malformed("there is no \"text_config\" "
                + "object; a " + NAME + " config.json keeps its language model's settings there (every released "
                + "checkpoint has one)"));
        Gemma3Architecture.Config language = Gemma3Architecture.readText(text, NAME, true);
        int imageToken = json.has("image_token_index") ? json.requirePositiveInt("image_token_index")
                : json.has("image_token_id") ? json.requirePositiveInt("image_token_id") : IMAGE_TOKEN;
        return new Config(language, imageToken);
    }

    /**
     * @param language   the language model's configuration
     * @param imageToken {@code image_token_index}: the placeholder that images' embeddings replace
     */
    record Config(Gemma3Architecture.Config language, int imageToken) implements ArchitectureConfig {

        @Override
        public ModelConfig modelConfig(String modelName) {
            return language.modelConfig(modelName);
        }

        @Override
        public java.util.List<org.circuittracer.transformer.decoder.AttentionSettings> attentionSettings() {
            return language.attentionSettings();
        }

        @Override
        public float headNormEpsilon() {
            return language.headNormEpsilon();
        }

        @Override
        public Decoder load(WeightReader weights, String modelName) {
            Decoder decoder = language.load(weights, modelName);
            LOG.log(System.Logger.Level.INFO, modelName + " is a multimodal " + NAME + " checkpoint: its language "
                    + "model is loaded; the vision tower is not (prompts are text only).");
            return decoder;
        }

        @Override
        public Map<Integer, String> refusedTokens() {
            return Map.of(imageToken, "the image token, a placeholder for an image's embeddings, which this tool "
                    + "does not compute (the vision tower is not loaded); give a text-only prompt");
        }
    }
}

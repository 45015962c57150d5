package org.circuittracer.transformer.architecture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.testkit.SharedFixtures;
import org.circuittracer.transformer.checkpoint.JsonConfig;
import org.circuittracer.transformer.decoder.RotaryEmbedding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gemma 3's {@code config.json} read as Hugging Face reads it: which layers slide ({@code layer_types}, else
 * {@code sliding_window_pattern}), the two rotary tables (local base unscaled, global base with linear scaling; also
 * from the newer {@code rope_parameters}), the defaults a multimodal {@code text_config} relies on, and clear errors.
 */
class Gemma3ConfigTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void theFixtureSlidesOnLayers013WithTheLocalBaseAndScalesTheGlobalLayer() throws IOException {
        Gemma3Architecture.Config c = text(config -> { });
        assertThat(c.slidingLayers()).containsExactly(true, true, false, true);
        assertThat(c.slidingWindow()).isEqualTo(4);
        assertThat(c.queryPreAttnScalar()).isEqualTo(32f);
        assertThat(c.attnLogitSoftcap()).isZero();
        assertThat(c.finalLogitSoftcap()).isZero();
        float[] local = RotaryEmbedding.standard(10_000, 24).inverseFrequencies();
        float[] global = RotaryEmbedding.standard(1_000_000, 24).inverseFrequencies();
        assertThat(c.localRotary().inverseFrequencies()).containsExactly(local);
        for (int i = 0; i < global.length; i++) {
            global[i] /= 8f;
        }
        assertThat(c.globalRotary().inverseFrequencies()).containsExactly(global);
    }

    @Test
    void withoutLayerTypesThePatternDecidesAndDefaultsToSix() throws IOException {
        assertThat(text(config -> config.remove("layer_types")).slidingLayers()).containsExactly(true, true, false,
                true);
        Gemma3Architecture.Config six = text(config -> {
            config.remove(List.of("layer_types", "sliding_window_pattern"));
            config.put("num_hidden_layers", 12);
        });
        assertThat(six.slidingLayers()).containsExactly(true, true, true, true, true, false, true, true, true, true,
                true, false);
    }

    @Test
    void ropeParametersPerLayerTypeGiveTheSameTables() throws IOException {
        Gemma3Architecture.Config classic = text(config -> { });
        Gemma3Architecture.Config perType = text(config -> {
            config.remove(List.of("rope_theta", "rope_scaling", "rope_local_base_freq"));
            ObjectNode parameters = config.putObject("rope_parameters");
            parameters.putObject("full_attention").put("rope_type", "linear").put("factor", 8.0)
                    .put("rope_theta", 1_000_000.0);
            parameters.putObject("sliding_attention").put("rope_type", "default").put("rope_theta", 10_000.0);
        });
        assertThat(perType.globalRotary().inverseFrequencies())
                .containsExactly(classic.globalRotary().inverseFrequencies());
        assertThat(perType.localRotary().inverseFrequencies())
                .containsExactly(classic.localRotary().inverseFrequencies());
    }

    @Test
    void absentFieldsTakeHuggingFacesDefaultsAndNullSwitchesSlidingOff() throws IOException {
        Gemma3Architecture.Config c = text(config -> config.retain("architectures", "hidden_size",
                "intermediate_size", "num_hidden_layers", "vocab_size"));
        assertThat(c.common().heads()).isEqualTo(8);
        assertThat(c.common().keyValueHeads()).isEqualTo(4);
        assertThat(c.common().headDim()).isEqualTo(256);
        assertThat(c.common().maxPositions()).isEqualTo(131_072);
        assertThat(c.common().tieWordEmbeddings()).isTrue();
        assertThat(c.queryPreAttnScalar()).isEqualTo(256f);
        assertThat(c.slidingWindow()).isEqualTo(4096);
        assertThat(text(config -> config.putNull("sliding_window")).slidingWindow()).isZero();
        assertThat(text(config -> config.put("final_logit_softcapping", 30.0)).finalLogitSoftcap()).isEqualTo(30f);
    }

    @Test
    void aMultimodalTextConfigListingOnlyWhatDiffersOpensWithTheDefaults() throws IOException {
        ObjectNode config = JSON.createObjectNode();
        config.putArray("architectures").add("Gemma3ForConditionalGeneration");
        // Gemma 3 4B's text_config as released: the rest are Gemma3TextConfig's defaults
        config.putObject("text_config").put("hidden_size", 2560).put("intermediate_size", 10240)
                .put("model_type", "gemma3_text").put("num_hidden_layers", 34).put("sliding_window", 1024)
                .putObject("rope_scaling").put("factor", 8.0).put("rope_type", "linear");
        config.put("image_token_index", 262_144);
        ArchitectureConfig read = Architectures.require(write(config)).read(write(config));
        var model = read.modelConfig("gemma-3-4b-it");
        assertThat(model.architecture()).isEqualTo("Gemma3ForConditionalGeneration");
        assertThat(List.of(model.layers(), model.modelWidth(), model.heads(), model.keyValueHeads(), model.headWidth(),
                model.vocabularySize())).containsExactly(34, 2560, 8, 4, 256, 262_208);
        assertThat(read.refusedTokens()).containsOnlyKeys(262_144);
    }

    @Test
    void badValuesAreMalformedAndNamed() {
        expectMalformed(config -> config.putArray("layer_types").add("sliding_attention").add("chunked_attention")
                .add("full_attention").add("sliding_attention"), "chunked_attention");
        expectMalformed(config -> config.putArray("layer_types").add("sliding_attention"), "\"layer_types\" has 1");
        expectMalformed(config -> ((ObjectNode) config.get("rope_scaling")).put("factor", 0), "\"factor\"");
        expectMalformed(config -> config.putObject("rope_parameters").putObject("full_attention")
                .put("rope_type", "default"), "sliding_attention");
    }

    @Test
    void linearRopeScalingIsReadForLlamaStyleModelsToo() throws IOException {
        ObjectNode config = fixture();
        config.putArray("architectures").add("LlamaForCausalLM");
        JsonConfig json = write(config);
        LlamaStyleConfig common = LlamaStyleConfig.read(json, new LlamaStyleConfig.Defaults(0, 1e-6f, 10000, 4096,
                false));
        float[] expected = RotaryEmbedding.standard(1_000_000, 24).inverseFrequencies();
        float[] actual = Rope.read(json, common).inverseFrequencies();
        for (int i = 0; i < expected.length; i++) {
            assertThat(actual[i]).isEqualTo(expected[i] / 8f);
        }
    }

    private void expectMalformed(Consumer<ObjectNode> edit, String fragment) {
        assertThatThrownBy(() -> text(edit)).isInstanceOfSatisfying(CircuitTracerException.class,
                e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE))
                .hasMessageContaining(fragment);
    }

    private Gemma3Architecture.Config text(Consumer<ObjectNode> edit) throws IOException {
        ObjectNode config = fixture();
        edit.accept(config);
        JsonConfig json = write(config);
        return (Gemma3Architecture.Config) Architectures.require(json).read(json);
    }

    private static ObjectNode fixture() throws IOException {
        return (ObjectNode) JSON.readTree(SharedFixtures.resolve("tiny-models/gemma3/config.json").toFile());
    }

    private JsonConfig write(ObjectNode config) throws IOException {
        Path file = dir.resolve("config-" + System.nanoTime() + ".json");
        JSON.writeValue(file.toFile(), config);
        return JsonConfig.read(file);
    }
}

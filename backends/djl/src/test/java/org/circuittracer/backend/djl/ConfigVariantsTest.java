package org.circuittracer.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.circuittracer.spi.model.Precision;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Optional config.json fields are read as Hugging Face reads them. */
class ConfigVariantsTest {

    @TempDir
    Path dir;

    @Test
    void gemma2LayerTypesAndNullSoftcapsAreHonoured() throws IOException {
        float[] reference = gemmaLogits("");
        assertThat(gemmaLogits("\"layer_types\": [\"sliding_attention\", \"full_attention\", \"sliding_attention\", "
                + "\"full_attention\"],")).containsExactly(reference);
        assertThat(gemmaLogits("\"layer_types\": [\"full_attention\", \"full_attention\", \"full_attention\", "
                + "\"full_attention\"],")).isNotEqualTo(reference);
        float[] uncapped = gemmaLogits("\"final_logit_softcapping\": null,", "\"final_logit_softcapping\": 30.0,");
        assertThat(uncapped).isNotEqualTo(reference);
        for (int i = 0; i < reference.length; i++) {
            assertThat(reference[i]).isCloseTo((float) (30 * Math.tanh(uncapped[i] / 30)), offset(1e-4f));
        }
    }

    /** Logits of the 16-token prompt (longer than the sliding window) with {@code extra} added to config.json. */
    private float[] gemmaLogits(String extra, String... removed) throws IOException {
        TinyModels.copy("gemma2", dir);
        Path config = dir.resolve("config.json");
        String text = Files.readString(config);
        for (String field : removed) {
            text = text.replace(field, "");
        }
        Files.writeString(config, text.replaceFirst("\\{", "{" + extra));
        try (TransformerModel model = TinyModels.open(dir, Precision.FLOAT32);
             NDManager manager = NDManager.newBaseManager()) {
            return model.forward(manager, TinyModels.prompt("gemma2", 2), List.of()).logits().toFloatArray();
        }
    }
}

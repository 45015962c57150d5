package org.circuittracer.backend.djl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.Sampling;
import org.circuittracer.spi.model.TransformerModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generation_config.json supplies stop tokens and sampling; without it, the tokenizer's EOS and greedy decoding. */
class GenerationDefaultsTest {

    @TempDir
    Path temp;

    @Test
    void withoutAGenerationConfigTheEosTokenStopsGreedyDecoding() {
        try (TransformerModel llama = TinyModels.open("llama")) {
            assertThat(llama.generationDefaults().stopTokens()).containsExactly(1);
            assertThat(llama.generationDefaults().sampling()).isEqualTo(Sampling.greedy());
        }
    }

    @Test
    void theGenerationConfigIsRead() throws IOException {
        Path model = copyOfLlama();
        Files.writeString(model.resolve("generation_config.json"),
                "{\"eos_token_id\": [1, 2], \"do_sample\": true, \"temperature\": 0.6, \"top_p\": 0.9}");
        try (TransformerModel llama = new DjlBackendProvider().create(ModelSource.of(model))) {
            assertThat(llama.generationDefaults().stopTokens()).containsExactlyInAnyOrder(1, 2);
            assertThat(llama.generationDefaults().sampling()).isEqualTo(new Sampling(0.6, 50, 0.9, 0));
        }
    }

    @Test
    void aBrokenGenerationConfigNamesTheFileAndField() throws IOException {
        Path model = copyOfLlama();
        Files.writeString(model.resolve("generation_config.json"), "{\"eos_token_id\": 999}");
        try (TransformerModel llama = new DjlBackendProvider().create(ModelSource.of(model))) {
            assertThatThrownBy(llama::generationDefaults).isInstanceOfSatisfying(CircuitTracerException.class,
                    e -> assertThat(e.errorCode()).isEqualTo(StandardErrorCode.MALFORMED_FILE))
                    .hasMessageContaining("generation_config.json").hasMessageContaining("eos_token_id");
        }
    }

    private Path copyOfLlama() throws IOException {
        Path source = TinyModels.directory("llama");
        Path copy = Files.createDirectories(temp.resolve("llama"));
        for (String file : new String[] {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}) {
            Files.copy(source.resolve(file), copy.resolve(file));
        }
        return copy;
    }
}

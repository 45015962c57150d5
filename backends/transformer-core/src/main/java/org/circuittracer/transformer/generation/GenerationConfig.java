package org.circuittracer.transformer.generation;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.OptionalInt;
import java.util.Set;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.GenerationDefaults;
import org.circuittracer.spi.model.Sampling;
import org.circuittracer.transformer.checkpoint.JsonConfig;

/**
 * Reads Hugging Face's optional {@code generation_config.json}: {@code eos_token_id} (an id or a list, e.g. Llama 3
 * instruct's two), {@code do_sample}, {@code temperature}, {@code top_k}, {@code top_p}. Without the file the stop
 * token is the tokenizer's EOS and decoding is greedy, as transformers does.
 */
public final class GenerationConfig {

    public static final String FILE = "generation_config.json";

    private GenerationConfig() {
    }

    /**
     * @param fallbackEos the tokenizer's EOS id, the stop token when the file gives none
     */
    public static GenerationDefaults read(Path directory, OptionalInt fallbackEos, int vocabularySize) {
        Path file = directory.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return new GenerationDefaults(fallbackEos.isPresent() ? Set.of(fallbackEos.getAsInt()) : Set.of(), Sampling.greedy());
        }
        JsonConfig config = JsonConfig.read(file);
        Set<Integer> stop = new HashSet<>(config.ints("eos_token_id"));
        if (stop.isEmpty()) {
            fallbackEos.ifPresent(stop::add);
        }
        for (int id : stop) {
            if (id < 0 || id >= vocabularySize) {
                throw config.malformed("\"eos_token_id\" " + id + " is outside the vocabulary [0, " + vocabularySize + ")");
            }
        }
        if (!config.booleanOr("do_sample", false)) {
            return new GenerationDefaults(stop, Sampling.greedy());
        }
        try {
            return new GenerationDefaults(stop, new Sampling(config.doubleOr("temperature", 1.0),
                    (int) config.doubleOr("top_k", 50), config.doubleOr("top_p", 1.0), 0));
        } catch (CircuitTracerException e) {
            throw new CircuitTracerException(StandardErrorCode.MALFORMED_FILE, file + ": " + e.getMessage(), e);
        }
    }
}

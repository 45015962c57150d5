package org.circuittracer.attribution;

import java.nio.file.Path;
import java.util.List;
import org.circuittracer.backend.djl.DjlBackendProvider;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.ModelSource;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.testkit.SharedFixtures;
import org.circuittracer.transcoders.reference.ReferenceCrossLayerProvider;
import org.circuittracer.transcoders.reference.ReferencePerLayerProvider;

/** The tiny fixture models (djl backend) and transcoders (reference formats), paired as the fixtures intend. */
public final class TinyFixtures {

    /**
     * A model with one of its transcoder sets.
     *
     * @param model      the architecture directory under {@code tiny-models}
     * @param dictionary the directory under {@code tiny-transcoders}
     */
    public record Pair(String model, String dictionary) {
        @Override
        public String toString() {
            return dictionary;
        }
    }

    public static final List<Pair> PAIRS = List.of(new Pair("llama", "llama-plt-relu"), new Pair("llama", "llama-plt-relu-skip"),
            new Pair("llama", "llama-clt-relu"), new Pair("gemma2", "gemma2-plt-jumprelu"),
            new Pair("gpt2", "gpt2-plt-relu"), new Pair("qwen3", "qwen3-plt-relu"),
            new Pair("gemma3", "gemma3-plt-relu"));

    private TinyFixtures() {
    }

    public static Path modelDirectory(String architecture) {
        return SharedFixtures.resolve("tiny-models/" + architecture);
    }

    public static Path dictionaryDirectory(String name) {
        return SharedFixtures.resolve("tiny-transcoders/" + name);
    }

    /** The fixture model opened with the djl backend. */
    public static TransformerModel openModel(Path directory) {
        return new DjlBackendProvider().create(ModelSource.of(directory));
    }

    public static TransformerModel openModel(String architecture) {
        return openModel(modelDirectory(architecture));
    }

    public static SparseDictionary openDictionary(Path directory) {
        ReferenceCrossLayerProvider crossLayer = new ReferenceCrossLayerProvider();
        return crossLayer.recognize(directory).matches() ? crossLayer.create(DictionarySource.of(directory))
                : new ReferencePerLayerProvider().create(DictionarySource.of(directory));
    }

    public static SparseDictionary openDictionary(String name) {
        return openDictionary(dictionaryDirectory(name));
    }

    /** Golden prompt {@code k} (0, 1, 2: 6, 11 and 16 tokens, each starting with a special token). */
    public static TokenSequence prompt(String architecture, int k) {
        try (SafetensorsFile golden = SafetensorsFile.open(modelDirectory(architecture).resolve("golden.safetensors"))) {
            return new TokenSequence(golden.readInts("p" + k + ".input_ids"));
        }
    }
}

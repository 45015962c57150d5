package org.circuittracer.transcoders.reference;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.circuittracer.safetensors.DType;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.testkit.AbstractDictionaryPluginConformanceTest;
import org.circuittracer.testkit.SharedFixtures;
import org.circuittracer.transcoders.common.ModelKind;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dictionary rules on the five per-layer fixture sets, and on synthetic sets with what the fixtures lack: BF16 and
 * F16 storage, TopK, and JumpReLU with a skip connection.
 */
class ReferencePerLayerDictionaryConformanceTest extends AbstractDictionaryPluginConformanceTest {

    @TempDir
    static Path synthetic;

    private static List<Path> directories;

    @Override
    protected DictionaryFormatProvider provider() {
        return new ReferencePerLayerProvider();
    }

    @Override
    protected synchronized List<Path> directories() {
        if (directories == null) {
            var config = SyntheticTranscoders.config(ModelKind.TRANSCODER_SET);
            directories = Stream.concat(Stream.of("llama-plt-relu", "llama-plt-relu-skip", "gemma2-plt-jumprelu",
                                    "gpt2-plt-relu", "qwen3-plt-relu", "gemma3-plt-relu").map(n -> SharedFixtures.resolve("tiny-transcoders/" + n)),
                    Stream.of(SyntheticTranscoders.perLayer(synthetic.resolve("bf16-topk"),
                                    config.withActivation(new ActivationFunction.TopK(5)),
                                    new SyntheticTranscoders.Spec(3, 24, 16, DType.BF16, false, false), 1),
                            SyntheticTranscoders.perLayer(synthetic.resolve("f16-jumprelu-skip"), config,
                                    new SyntheticTranscoders.Spec(2, 20, 12, DType.F16, true, true), 2))).toList();
        }
        return directories;
    }
}

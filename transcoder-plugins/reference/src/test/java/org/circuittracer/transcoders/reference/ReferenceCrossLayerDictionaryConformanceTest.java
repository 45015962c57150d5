package org.circuittracer.transcoders.reference;

import java.nio.file.Path;
import java.util.List;
import org.circuittracer.safetensors.DType;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.testkit.AbstractDictionaryPluginConformanceTest;
import org.circuittracer.testkit.SharedFixtures;
import org.circuittracer.transcoders.common.ModelKind;
import org.junit.jupiter.api.io.TempDir;

/** The dictionary rules on the cross-layer fixture set and on a synthetic BF16 JumpReLU cross-layer transcoder. */
class ReferenceCrossLayerDictionaryConformanceTest extends AbstractDictionaryPluginConformanceTest {

    @TempDir
    static Path synthetic;

    private static List<Path> directories;

    @Override
    protected DictionaryFormatProvider provider() {
        return new ReferenceCrossLayerProvider();
    }

    @Override
    protected synchronized List<Path> directories() {
        if (directories == null) {
            directories = List.of(SharedFixtures.resolve("tiny-transcoders/llama-clt-relu"),
                    SyntheticTranscoders.crossLayer(synthetic.resolve("bf16-jumprelu"),
                            SyntheticTranscoders.config(ModelKind.CROSS_LAYER_TRANSCODER),
                            new SyntheticTranscoders.Spec(3, 16, 8, DType.BF16, true, false), 3));
        }
        return directories;
    }
}

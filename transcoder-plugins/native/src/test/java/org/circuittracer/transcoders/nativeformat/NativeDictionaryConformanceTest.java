package org.circuittracer.transcoders.nativeformat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.testkit.AbstractDictionaryPluginConformanceTest;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dictionary rules on converted sets of every kind the format holds: per-layer ReLU, JumpReLU with a skip
 * connection, TopK and ReLU after TopK, and a cross-layer JumpReLU transcoder.
 */
class NativeDictionaryConformanceTest extends AbstractDictionaryPluginConformanceTest {

    @TempDir
    static Path scratch;

    private static List<Path> directories;

    @Override
    protected DictionaryFormatProvider provider() {
        return new NativeFormatProvider();
    }

    @Override
    protected synchronized List<Path> directories() {
        if (directories == null) {
            directories = new ArrayList<>();
            convert("plt-relu", Synthetic.Spec.plt(), 1);
            convert("plt-jumprelu-skip", new Synthetic.Spec(false, true, true, Optional.empty()), 2);
            convert("plt-topk", new Synthetic.Spec(false, false, false, Optional.of(new ActivationFunction.TopK(4))),
                    3);
            convert("clt-jumprelu", new Synthetic.Spec(true, true, false, Optional.empty()), 4);
            Path source = Synthetic.reference(scratch.resolve("relu-topk-source"), Synthetic.Spec.plt(), 5);
            try (SparseDictionary reluTopK = Synthetic.reluTopK(source, 4)) {
                NativeFormatWriter.write(reluTopK, scratch.resolve("plt-relu-topk"));
            }
            directories.add(scratch.resolve("plt-relu-topk"));
        }
        return directories;
    }

    private static void convert(String name, Synthetic.Spec spec, long seed) {
        Path source = Synthetic.reference(scratch.resolve(name + "-source"), spec, seed);
        try (SparseDictionary dictionary = Synthetic.openReference(source, spec.crossLayer())) {
            NativeFormatWriter.write(dictionary, scratch.resolve(name));
        }
        directories.add(scratch.resolve(name));
    }
}

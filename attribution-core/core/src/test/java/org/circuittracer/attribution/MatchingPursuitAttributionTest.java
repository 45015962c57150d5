package org.circuittracer.attribution;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.circuittracer.attribution.exact.ExactAttributorProvider;
import org.circuittracer.safetensors.DType;
import org.circuittracer.spi.attribution.AttributorProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.testkit.AbstractAttributorConformanceTest;
import org.circuittracer.transcoders.mp.MatchingPursuitManifest;
import org.circuittracer.transcoders.mp.MatchingPursuitProvider;
import org.circuittracer.transcoders.mp.MatchingPursuitWriter;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attribution graphs built from a dictionary that is not a plain transcoder: matching pursuit on the tiny Llama. The
 * whole attributor kit holds, edge oracles included: its decoder is linear and its pre-activation is a linear
 * function of the input, which is all exact attribution needs.
 */
class MatchingPursuitAttributionTest extends AbstractAttributorConformanceTest {

    /** Static, so that it exists when the kit's {@code @BeforeAll} opens the setups; shared by the class's tests. */
    @TempDir
    static Path scratch;

    private Path dictionary;

    @Override
    protected AttributorProvider provider() {
        return new ExactAttributorProvider();
    }

    @Override
    protected synchronized List<Setup> setups() {
        if (dictionary == null) {
            dictionary = writeDictionary(scratch.resolve("mp-llama"));
        }
        return List.of(new Setup("llama-matching-pursuit", TinyFixtures.modelDirectory("llama"), dictionary,
                TinyFixtures.prompt("llama", 1)));
    }

    @Override
    protected TransformerModel openModel(Path directory) {
        return TinyFixtures.openModel(directory);
    }

    @Override
    protected SparseDictionary openDictionary(Path directory) {
        return new MatchingPursuitProvider().create(DictionarySource.of(directory));
    }

    /** 4 layers × 96 random unit atoms over the tiny Llama's residual (width 64), 6 pursuit steps. */
    private static Path writeDictionary(Path directory) {
        int layers = 4;
        int width = 64;
        int features = 96;
        Random random = new Random(17);
        List<MatchingPursuitWriter.LayerWeights> weights = new ArrayList<>();
        for (int layer = 0; layer < layers; layer++) {
            weights.add(new MatchingPursuitWriter.LayerWeights(gaussian(random, features * width, 1),
                    gaussian(random, features * width, 0.05), gaussian(random, width, 0.01),
                    gaussian(random, width, 0.01)));
        }
        MatchingPursuitWriter.write(directory, MatchingPursuitManifest.of(layers, width, features, 6,
                SiteKind.RESID_MID, SiteKind.MLP_OUT_RAW, "test/mp-llama"), weights, DType.F32);
        return directory;
    }

    private static float[] gaussian(Random random, int n, double scale) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        return values;
    }
}

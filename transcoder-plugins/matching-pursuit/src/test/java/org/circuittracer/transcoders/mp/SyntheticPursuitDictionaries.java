package org.circuittracer.transcoders.mp;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.circuittracer.safetensors.DType;
import org.circuittracer.spi.site.SiteKind;

/** Small seeded matching-pursuit dictionaries written for tests. */
final class SyntheticPursuitDictionaries {

    private SyntheticPursuitDictionaries() {
    }

    static Path write(Path directory, int layers, int width, int features, int steps, DType dtype, long seed) {
        Random random = new Random(seed);
        List<MatchingPursuitWriter.LayerWeights> weights = new ArrayList<>();
        for (int layer = 0; layer < layers; layer++) {
            weights.add(new MatchingPursuitWriter.LayerWeights(gaussian(random, features * width, 1),
                    gaussian(random, features * width, 0.3), gaussian(random, width, 0.1), gaussian(random, width, 0.1)));
        }
        MatchingPursuitWriter.write(directory, MatchingPursuitManifest.of(layers, width, features, steps,
                SiteKind.RESID_MID, SiteKind.MLP_OUT_RAW, "synthetic/" + directory.getFileName()), weights, dtype);
        return directory;
    }

    static float[] gaussian(Random random, int n, double scale) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        return values;
    }
}

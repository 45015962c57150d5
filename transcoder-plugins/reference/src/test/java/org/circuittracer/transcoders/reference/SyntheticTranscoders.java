package org.circuittracer.transcoders.reference;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.circuittracer.safetensors.DType;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.common.ModelKind;
import org.circuittracer.transcoders.common.ReferenceConfig;

/** Small random transcoder sets written with {@link ReferenceFormatWriter}, for tests. */
final class SyntheticTranscoders {

    /** What to generate. */
    record Spec(int layers, int features, int width, DType dtype, boolean thresholds, boolean skip) {
    }

    private SyntheticTranscoders() {
    }

    static ReferenceConfig config(ModelKind kind) {
        return ReferenceConfig.of(kind, SiteKind.RESID_MID, SiteKind.MLP_OUT);
    }

    /** Per-layer transcoders; encoder biases are slightly negative so that roughly a third of the features fire. */
    static Path perLayer(Path dir, ReferenceConfig config, Spec spec, long seed) {
        ReferenceFormatWriter.writePerLayer(dir, config, perLayerTensors(spec, seed));
        return dir;
    }

    static List<ReferenceFormatWriter.PerLayerTensors> perLayerTensors(Spec spec, long seed) {
        Random random = new Random(seed);
        List<ReferenceFormatWriter.PerLayerTensors> layers = new ArrayList<>();
        for (int layer = 0; layer < spec.layers(); layer++) {
            layers.add(new ReferenceFormatWriter.PerLayerTensors(
                    gaussian(random, spec.dtype(), 1 / Math.sqrt(spec.width()), spec.features(), spec.width()),
                    bias(random, spec.dtype(), spec.features()),
                    gaussian(random, spec.dtype(), 1, spec.features(), spec.width()),
                    gaussian(random, spec.dtype(), 1, spec.width()),
                    spec.thresholds() ? Optional.of(thresholds(random, spec.dtype(), spec.features())) : Optional.empty(),
                    spec.skip() ? Optional.of(gaussian(random, spec.dtype(), 0.1, spec.width(), spec.width()))
                            : Optional.empty()));
        }
        return layers;
    }

    /** A cross-layer transcoder. */
    static Path crossLayer(Path dir, ReferenceConfig config, Spec spec, long seed) {
        Random random = new Random(seed);
        List<ReferenceFormatWriter.CrossLayerTensors> layers = new ArrayList<>();
        for (int layer = 0; layer < spec.layers(); layer++) {
            layers.add(new ReferenceFormatWriter.CrossLayerTensors(
                    gaussian(random, spec.dtype(), 1 / Math.sqrt(spec.width()), spec.features(), spec.width()),
                    bias(random, spec.dtype(), spec.features()),
                    gaussian(random, spec.dtype(), 1, spec.width()),
                    spec.thresholds() ? Optional.of(thresholds(random, spec.dtype(), spec.features())) : Optional.empty(),
                    gaussian(random, spec.dtype(), 1, spec.features(), spec.layers() - layer, spec.width())));
        }
        ReferenceFormatWriter.writeCrossLayer(dir, config, layers);
        return dir;
    }

    static Tensor gaussian(Random random, DType dtype, double scale, long... shape) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        return Tensor.floats(dtype, shape, values);
    }

    private static Tensor bias(Random random, DType dtype, int features) {
        float[] values = new float[features];
        for (int i = 0; i < features; i++) {
            values[i] = (float) (random.nextGaussian() * 0.1 - 0.4);
        }
        return Tensor.floats(dtype, new long[] {features}, values);
    }

    private static Tensor thresholds(Random random, DType dtype, int features) {
        float[] values = new float[features];
        for (int i = 0; i < features; i++) {
            values[i] = (float) (random.nextDouble() * 0.5 - 0.25);
        }
        return Tensor.floats(dtype, new long[] {features}, values);
    }
}

package org.circuittracer.transcoders.nativeformat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transcoders.common.Nonlinearity;
import org.circuittracer.transcoders.common.RowMatrix;
import org.circuittracer.transcoders.common.TranscoderDictionary;
import org.circuittracer.transcoders.common.Transcoders;
import org.circuittracer.transcoders.common.WeightVector;
import org.circuittracer.transcoders.common.ModelKind;
import org.circuittracer.transcoders.common.ReferenceConfig;
import org.circuittracer.transcoders.reference.ReferenceCrossLayerProvider;
import org.circuittracer.transcoders.reference.ReferenceFormatWriter;
import org.circuittracer.transcoders.reference.ReferencePerLayerProvider;
import org.circuittracer.transcoders.reference.Tensor;

/** Small seeded transcoder sets in the reference layout, the source of the conversions under test. */
final class Synthetic {

    /** What to generate: 3 layers, 32 features, width 16 unless said otherwise. */
    record Spec(boolean crossLayer, boolean thresholds, boolean skip, Optional<ActivationFunction> activation) {
        static Spec plt() {
            return new Spec(false, false, false, Optional.empty());
        }
    }

    static final int LAYERS = 3;
    static final int FEATURES = 32;
    static final int WIDTH = 16;

    private Synthetic() {
    }

    /** Writes a reference-format set into {@code dir}. */
    static Path reference(Path dir, Spec spec, long seed) {
        Random random = new Random(seed);
        ReferenceConfig config = ReferenceConfig.of(spec.crossLayer() ? ModelKind.CROSS_LAYER_TRANSCODER
                : ModelKind.TRANSCODER_SET, SiteKind.RESID_MID, SiteKind.MLP_OUT).withScan("synthetic/" + seed);
        if (spec.activation().isPresent()) {
            config = config.withActivation(spec.activation().get());
        }
        if (spec.crossLayer()) {
            List<ReferenceFormatWriter.CrossLayerTensors> layers = new ArrayList<>();
            for (int layer = 0; layer < LAYERS; layer++) {
                layers.add(new ReferenceFormatWriter.CrossLayerTensors(gaussian(random, 0.25, FEATURES, WIDTH),
                        bias(random), gaussian(random, 1, WIDTH),
                        spec.thresholds() ? Optional.of(thresholds(random)) : Optional.empty(),
                        gaussian(random, 1, FEATURES, LAYERS - layer, WIDTH)));
            }
            ReferenceFormatWriter.writeCrossLayer(dir, config, layers);
        } else {
            List<ReferenceFormatWriter.PerLayerTensors> layers = new ArrayList<>();
            for (int layer = 0; layer < LAYERS; layer++) {
                layers.add(new ReferenceFormatWriter.PerLayerTensors(gaussian(random, 0.25, FEATURES, WIDTH),
                        bias(random), gaussian(random, 1, FEATURES, WIDTH), gaussian(random, 1, WIDTH),
                        spec.thresholds() ? Optional.of(thresholds(random)) : Optional.empty(),
                        spec.skip() ? Optional.of(gaussian(random, 0.1, WIDTH, WIDTH)) : Optional.empty()));
            }
            ReferenceFormatWriter.writePerLayer(dir, config, layers);
        }
        return dir;
    }

    /** Opens a set written by {@link #reference} (eager, so that it can be compared after its files change). */
    static SparseDictionary openReference(Path dir, boolean crossLayer) {
        DictionarySource source = new DictionarySource(dir, false, false, java.util.Map.of());
        return crossLayer ? new ReferenceCrossLayerProvider().create(source)
                : new ReferencePerLayerProvider().create(source);
    }

    /** The per-layer set in {@code dir} with ReLU after TopK (which no reference format expresses). */
    static SparseDictionary reluTopK(Path dir, int k) {
        List<AutoCloseable> files = new ArrayList<>();
        List<Transcoders.SourceLayer> sources = new ArrayList<>();
        List<Transcoders.OutputLayer> outputs = new ArrayList<>();
        for (int layer = 0; layer < LAYERS; layer++) {
            SafetensorsFile file = SafetensorsFile.open(dir.resolve("layer_" + layer + ".safetensors"));
            files.add(file);
            sources.add(new Transcoders.SourceLayer(RowMatrix.of(file, "W_enc"), WeightVector.read(file, "b_enc"),
                    Nonlinearity.ReluTopK.function(k), Optional.empty(), List.of(RowMatrix.of(file, "W_dec"))));
            outputs.add(new Transcoders.OutputLayer(WeightVector.read(file, "b_dec"), Optional.empty()));
        }
        Transcoders spec = new Transcoders("synthetic", "synthetic/relu-topk", SiteKind.RESID_MID, SiteKind.MLP_OUT,
                WIDTH, sources, outputs);
        return TranscoderDictionary.open(spec, false, false, Optional.empty(), files);
    }

    static Tensor gaussian(Random random, double scale, long... shape) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        return Tensor.floats(DType.F32, shape, values);
    }

    private static Tensor bias(Random random) {
        float[] values = new float[FEATURES];
        for (int i = 0; i < FEATURES; i++) {
            values[i] = (float) (random.nextGaussian() * 0.1 - 0.4);
        }
        return Tensor.floats(DType.F32, new long[] {FEATURES}, values);
    }

    private static Tensor thresholds(Random random) {
        float[] values = new float[FEATURES];
        for (int i = 0; i < FEATURES; i++) {
            values[i] = (float) (random.nextDouble() * 0.5 - 0.25);
        }
        return Tensor.floats(DType.F32, new long[] {FEATURES}, values);
    }
}

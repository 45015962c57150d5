package org.circuittracer.testkit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.Recognition;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.ActivationFunction;
import org.circuittracer.spi.dictionary.DictionaryCapability;
import org.circuittracer.spi.dictionary.DictionaryFormatProvider;
import org.circuittracer.spi.dictionary.DictionarySource;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.LinearMap;
import org.circuittracer.spi.site.SiteKind;

/**
 * A tiny per-layer ReLU transcoder computed on the host, generated from a seed in {@code sample-dictionary.properties},
 * that follows every dictionary rule, and variants that each break one.
 */
final class SampleDictionaries {

    static final String FILE = "sample-dictionary.properties";
    private static final int LAYERS = 2;
    private static final int WIDTH = 4;
    private static final int FEATURES = 6;

    private SampleDictionaries() {
    }

    /** Reads {@code seed} and {@code skip} from the directory's properties file. */
    public static class SampleFormat implements DictionaryFormatProvider {
        @Override
        public String name() {
            return "sample";
        }

        @Override
        public Recognition recognize(Path directory) {
            return Files.isRegularFile(directory.resolve(FILE)) ? Recognition.certain(FILE + " is there")
                    : Recognition.none("no " + FILE);
        }

        @Override
        public SparseDictionary create(DictionarySource source) {
            Path file = source.directory().resolve(FILE);
            if (!Files.isRegularFile(file)) {
                throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, file + " does not exist.");
            }
            Properties properties = new Properties();
            try (Reader reader = Files.newBufferedReader(file)) {
                properties.load(reader);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return dictionary(Long.parseLong(properties.getProperty("seed")),
                    Boolean.parseBoolean(properties.getProperty("skip")));
        }

        SampleDictionary dictionary(long seed, boolean skip) {
            return new SampleDictionary(name(), seed, skip);
        }
    }

    /** Follows the rules. */
    static class SampleDictionary implements SparseDictionary {
        private final String format;
        private final long seed;
        private final boolean hasSkip;
        private final float[][] encoder = new float[LAYERS][];
        private final float[][] encoderBias = new float[LAYERS][];
        private final float[][] decoder = new float[LAYERS][];
        private final float[][] decoderBias = new float[LAYERS][];
        private final float[][] skipWeight = new float[LAYERS][];

        SampleDictionary(String format, long seed, boolean hasSkip) {
            this.format = format;
            this.seed = seed;
            this.hasSkip = hasSkip;
            Random random = new Random(seed);
            for (int l = 0; l < LAYERS; l++) {
                encoder[l] = gaussian(random, FEATURES * WIDTH);
                encoderBias[l] = gaussian(random, FEATURES);
                decoder[l] = gaussian(random, FEATURES * WIDTH);
                decoderBias[l] = gaussian(random, WIDTH);
                skipWeight[l] = gaussian(random, WIDTH * WIDTH);
            }
        }

        private static float[] gaussian(Random random, int n) {
            float[] values = new float[n];
            for (int i = 0; i < n; i++) {
                values[i] = (float) random.nextGaussian();
            }
            return values;
        }

        @Override
        public String formatName() {
            return format;
        }

        @Override
        public String scan() {
            return "sample-" + seed;
        }

        @Override
        public int layers() {
            return LAYERS;
        }

        @Override
        public int width() {
            return WIDTH;
        }

        @Override
        public int features(int layer) {
            checkLayer(layer);
            return FEATURES;
        }

        @Override
        public SiteKind readSite() {
            return SiteKind.RESID_MID;
        }

        @Override
        public SiteKind writeSite() {
            return SiteKind.MLP_OUT;
        }

        @Override
        public int[] outputLayers(int sourceLayer) {
            checkLayer(sourceLayer);
            return new int[] {sourceLayer};
        }

        @Override
        public ActivationFunction activation(int layer) {
            return new ActivationFunction.Relu();
        }

        @Override
        public Set<DictionaryCapability> capabilities() {
            Set<DictionaryCapability> set = EnumSet.of(DictionaryCapability.WRITABLE);
            if (hasSkip) {
                set.add(DictionaryCapability.SKIP_CONNECTION);
            }
            return set;
        }

        @Override
        public NDArray preActivations(NDManager manager, int layer, NDArray input) {
            checkLayer(layer);
            float[] x = checkInput(input);
            int length = x.length / WIDTH;
            float[] h = new float[length * FEATURES];
            for (int p = 0; p < length; p++) {
                for (int f = 0; f < FEATURES; f++) {
                    float sum = encoderBias[layer][f];
                    for (int i = 0; i < WIDTH; i++) {
                        sum += x[p * WIDTH + i] * encoder[layer][f * WIDTH + i];
                    }
                    h[p * FEATURES + f] = sum;
                }
            }
            return manager.create(h, new Shape(length, FEATURES));
        }

        @Override
        public NDArray encode(NDManager manager, int layer, NDArray input, Set<Integer> zeroedPositions) {
            float[] a = preActivations(manager, layer, input).toFloatArray();
            for (int i = 0; i < a.length; i++) {
                a[i] = Math.max(a[i], 0);
            }
            for (int p : zeroedPositions) {
                if (p * FEATURES < a.length) {
                    java.util.Arrays.fill(a, p * FEATURES, (p + 1) * FEATURES, 0f);
                }
            }
            return manager.create(a, new Shape(a.length / FEATURES, FEATURES));
        }

        @Override
        public SparseActivations encodeSparse(NDManager manager, int layer, NDArray input, Set<Integer> zeroed) {
            float[] a = encode(manager, layer, input, zeroed).toFloatArray();
            List<Integer> entries = new ArrayList<>();
            for (int i = 0; i < a.length; i++) {
                if (a[i] != 0) {
                    entries.add(i);
                }
            }
            int[] positions = entries.stream().mapToInt(i -> i / FEATURES).toArray();
            int[] features = entries.stream().mapToInt(i -> i % FEATURES).toArray();
            float[] values = new float[entries.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = a[entries.get(i)];
            }
            return new SparseActivations(layer, a.length / FEATURES, positions, features, values);
        }

        @Override
        public NDArray decode(NDManager manager, int outputLayer, List<SparseActivations> activations,
                              NDArray outputInput) {
            checkLayer(outputLayer);
            if (activations.size() != 1 || activations.get(0).layer() != outputLayer) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "needs layer " + outputLayer);
            }
            SparseActivations code = activations.get(0);
            float[] out = new float[code.length() * WIDTH];
            for (int p = 0; p < code.length(); p++) {
                System.arraycopy(decoderBias[outputLayer], 0, out, p * WIDTH, WIDTH);
            }
            for (int e = 0; e < code.size(); e++) {
                for (int i = 0; i < WIDTH; i++) {
                    out[code.positionAt(e) * WIDTH + i] += code.valueAt(e) * decoder[outputLayer][code.featureAt(e)
                            * WIDTH + i];
                }
            }
            NDArray reconstruction = manager.create(out, new Shape(code.length(), WIDTH));
            Optional<LinearMap> skip = skip(outputLayer);
            return skip.isPresent() ? reconstruction.add(skip.get().apply(outputInput)) : reconstruction;
        }

        @Override
        public NDArray decoderRows(NDManager manager, int sourceLayer, int[] features, int outputLayer) {
            checkLayer(outputLayer);
            if (sourceLayer != outputLayer) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "writes only its own layer");
            }
            return rows(manager, decoder[sourceLayer], features);
        }

        @Override
        public NDArray encoderRows(NDManager manager, int layer, int[] features) {
            checkLayer(layer);
            return rows(manager, encoder[layer], features);
        }

        @Override
        public NDArray encoderBias(NDManager manager, int layer, int[] features) {
            checkLayer(layer);
            checkFeatures(features);
            float[] picked = new float[features.length];
            for (int i = 0; i < features.length; i++) {
                picked[i] = encoderBias[layer][features[i]];
            }
            return manager.create(picked);
        }

        @Override
        public NDArray decoderBias(NDManager manager, int outputLayer) {
            checkLayer(outputLayer);
            return manager.create(decoderBias[outputLayer]);
        }

        @Override
        public Optional<LinearMap> skip(int outputLayer) {
            checkLayer(outputLayer);
            if (!hasSkip) {
                return Optional.empty();
            }
            float[] w = skipWeight[outputLayer];
            return Optional.of(new LinearMap() {
                @Override
                public int inputWidth() {
                    return WIDTH;
                }

                @Override
                public int outputWidth() {
                    return WIDTH;
                }

                @Override
                public NDArray apply(NDArray x) {
                    return x.matMul(x.getManager().create(w, new Shape(WIDTH, WIDTH)).transpose());
                }

                @Override
                public NDArray applyAdjoint(NDArray g) {
                    return g.matMul(g.getManager().create(w, new Shape(WIDTH, WIDTH)));
                }
            });
        }

        @Override
        public void save(Path directory) {
            write(directory, seed, hasSkip);
        }

        @Override
        public void close() {
        }

        private static NDArray rows(NDManager manager, float[] matrix, int[] features) {
            checkFeatures(features);
            float[] out = new float[features.length * WIDTH];
            for (int i = 0; i < features.length; i++) {
                System.arraycopy(matrix, features[i] * WIDTH, out, i * WIDTH, WIDTH);
            }
            return manager.create(out, new Shape(features.length, WIDTH));
        }

        private static void checkLayer(int layer) {
            if (layer < 0 || layer >= LAYERS) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "layer " + layer);
            }
        }

        private static void checkFeatures(int[] features) {
            for (int f : features) {
                if (f < 0 || f >= FEATURES) {
                    throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "feature " + f);
                }
            }
        }

        private static float[] checkInput(NDArray input) {
            if (input.getShape().dimension() != 2 || input.getShape().get(1) != WIDTH) {
                throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "shape " + input.getShape());
            }
            return input.toFloatArray();
        }
    }

    static void write(Path directory, long seed, boolean skip) {
        try {
            Files.createDirectories(directory);
            try (Writer writer = Files.newBufferedWriter(directory.resolve(FILE))) {
                writer.write("seed=" + seed + "\nskip=" + skip + "\n");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------- variants that break one rule each

    /** encodeSparse() loses the last entry. */
    public static class DropsAnEntry extends SampleFormat {
        @Override
        SampleDictionary dictionary(long seed, boolean skip) {
            return new SampleDictionary(name(), seed, skip) {
                @Override
                public SparseActivations encodeSparse(NDManager manager, int layer, NDArray input, Set<Integer> zeroed) {
                    SparseActivations all = super.encodeSparse(manager, layer, input, zeroed);
                    int n = Math.max(0, all.size() - 1);
                    return new SparseActivations(layer, all.length(), java.util.Arrays.copyOf(all.positions(), n),
                            java.util.Arrays.copyOf(all.features(), n), java.util.Arrays.copyOf(all.values(), n));
                }
            };
        }
    }

    /** decode() leaves out the decoder bias. */
    public static class ForgetsTheDecoderBias extends SampleFormat {
        @Override
        SampleDictionary dictionary(long seed, boolean skip) {
            return new SampleDictionary(name(), seed, skip) {
                @Override
                public NDArray decode(NDManager manager, int outputLayer, List<SparseActivations> activations,
                                      NDArray outputInput) {
                    return super.decode(manager, outputLayer, activations, outputInput)
                            .sub(decoderBias(manager, outputLayer));
                }
            };
        }
    }

    /** encode() ignores the zeroed positions. */
    public static class IgnoresZeroedPositions extends SampleFormat {
        @Override
        SampleDictionary dictionary(long seed, boolean skip) {
            return new SampleDictionary(name(), seed, skip) {
                @Override
                public NDArray encode(NDManager manager, int layer, NDArray input, Set<Integer> zeroedPositions) {
                    return super.encode(manager, layer, input, Set.of());
                }
            };
        }
    }

    /** Has skip maps but does not declare SKIP_CONNECTION. */
    public static class HidesItsSkip extends SampleFormat {
        @Override
        SampleDictionary dictionary(long seed, boolean skip) {
            return new SampleDictionary(name(), seed, skip) {
                @Override
                public Set<DictionaryCapability> capabilities() {
                    return Set.of(DictionaryCapability.WRITABLE);
                }
            };
        }
    }

    /** save() loses the skip connection. */
    public static class SavesWithoutSkip extends SampleFormat {
        @Override
        SampleDictionary dictionary(long seed, boolean skip) {
            return new SampleDictionary(name(), seed, skip) {
                @Override
                public void save(Path directory) {
                    write(directory, seed, false);
                }
            };
        }
    }
}

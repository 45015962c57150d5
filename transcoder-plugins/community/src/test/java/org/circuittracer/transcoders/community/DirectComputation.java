package org.circuittracer.transcoders.community;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;
import org.assertj.core.data.Offset;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.spi.dictionary.SparseActivations;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.testkit.SharedFixtures;

/**
 * What a writer's own code computes for one layer, written out loop by loop in double precision from the weights as
 * stored (after widening): the encoder exactly as the writer applies it (optionally centring the input on {@code b_dec}
 * first, as sparsify did before 2025-02-12), its nonlinearity, and the decoder with the skip term. A dictionary read
 * from the writer's files must agree with it.
 *
 * @param wEnc      {@code [F, d]} (row f = feature f, whatever the file's orientation)
 * @param bEnc      {@code [F]}
 * @param wDec      {@code [F, d]}
 * @param bDec      {@code [d]}
 * @param threshold JumpReLU thresholds as the writer compares them ({@code h > θ}, after ReLU), if JumpReLU
 * @param k         TopK's k (ReLU after TopK), if TopK
 * @param wSkip     {@code [d, d]} applied as {@code x·W_skipᵀ}, if any
 * @param centre    whether the encoder computes {@code (x − b_dec)·W_encᵀ + b_enc}
 */
public record DirectComputation(int features, int width, float[] wEnc, float[] bEnc, float[] wDec, float[] bDec,
                                Optional<float[]> threshold, Optional<Integer> k, Optional<float[]> wSkip,
                                boolean centre) {

    /** {@code h [T, F]} as the writer computes it. */
    public double[] preActivations(float[] x, int tokens) {
        double[] h = new double[tokens * features];
        for (int t = 0; t < tokens; t++) {
            for (int f = 0; f < features; f++) {
                double sum = bEnc[f];
                for (int j = 0; j < width; j++) {
                    double in = x[t * width + j] - (centre ? bDec[j] : 0);
                    sum += in * wEnc[f * width + j];
                }
                h[t * features + f] = sum;
            }
        }
        return h;
    }

    /** The dense activations {@code [T, F]}: ReLU after TopK, or SAELens's JumpReLU {@code ReLU(h)·[h > θ]}. */
    public double[] activations(double[] h, int tokens) {
        double[] a = new double[h.length];
        for (int t = 0; t < tokens; t++) {
            int row = t * features;
            if (k.isPresent()) {
                Integer[] order = IntStream.range(0, features).boxed().toArray(Integer[]::new);
                Arrays.sort(order, (p, q) -> Double.compare(h[row + q], h[row + p]));
                for (int i = 0; i < k.get(); i++) {
                    a[row + order[i]] = Math.max(0, h[row + order[i]]);
                }
            } else {
                for (int f = 0; f < features; f++) {
                    double v = h[row + f];
                    boolean open = threshold.isEmpty() || v > threshold.get()[f];
                    a[row + f] = open ? Math.max(0, v) : 0;
                }
            }
        }
        return a;
    }

    /** {@code ŷ [T, d] = a·W_dec + b_dec (+ x·W_skipᵀ)}. */
    public double[] decode(double[] a, float[] x, int tokens) {
        double[] y = new double[tokens * width];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < width; j++) {
                double sum = bDec[j];
                for (int f = 0; f < features; f++) {
                    sum += a[t * features + f] * wDec[f * width + j];
                }
                if (wSkip.isPresent()) {
                    for (int i = 0; i < width; i++) {
                        sum += x[t * width + i] * wSkip.get()[j * width + i];
                    }
                }
                y[t * width + j] = sum;
            }
        }
        return y;
    }

    /**
     * Checks {@code dictionary} at {@code layer} on {@code x [T, d]}: pre-activations, the active set and values, and
     * the reconstruction agree with this direct computation within float32 rounding, and some features fire.
     */
    public void assertAgrees(SparseDictionary dictionary, int layer, float[] x, int tokens) {
        double[] h = preActivations(x, tokens);
        double[] a = activations(h, tokens);
        double[] y = decode(a, x, tokens);
        try (NDManager scope = NDManager.newBaseManager()) {
            NDArray input = scope.create(x, new Shape(tokens, width));
            float[] actualH = dictionary.preActivations(scope, layer, input).toFloatArray();
            assertClose(actualH, h, "layer " + layer + " pre-activations");
            SparseActivations code = dictionary.encodeSparse(scope, layer, input, Set.of());
            float[] dense = new float[h.length];
            for (int i = 0; i < code.size(); i++) {
                dense[code.positionAt(i) * features + code.featureAt(i)] = code.valueAt(i);
            }
            assertClose(dense, a, "layer " + layer + " activations");
            long firing = Arrays.stream(a).filter(v -> v > 0).count();
            assertThat(firing).as("layer %d: features fire", layer).isPositive();
            assertThat(code.size()).as("layer %d: active entries", layer).isEqualTo((int) firing);
            float[] actualY = dictionary.decode(scope, layer, List.of(code), input).toFloatArray();
            assertClose(actualY, y, "layer " + layer + " reconstruction");
        }
    }

    private static void assertClose(float[] actual, double[] expected, String what) {
        double scale = 1;
        for (double v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        float[] e = new float[expected.length];
        for (int i = 0; i < e.length; i++) {
            e[i] = (float) expected[i];
        }
        assertThat(actual).as(what).containsExactly(e, Offset.offset((float) (2e-5 * scale)));
    }

    /**
     * A prompt's activations from a tiny model's goldens ({@code tiny-models/MODEL/golden.safetensors}), e.g.
     * {@code golden("llama", "p0.layers.1.mlp_in")}: {@code [T, d]} as floats, with {@code T} in {@code tokens[0]}.
     */
    public static float[] golden(String model, String tensor, int[] tokens) {
        Path file = SharedFixtures.resolve("tiny-models/" + model + "/golden.safetensors");
        try (SafetensorsFile golden = SafetensorsFile.open(file)) {
            long[] shape = golden.info(tensor).shape();
            tokens[0] = Math.toIntExact(shape[shape.length - 2]);
            return golden.readFloats(tensor);
        }
    }

    /** The tensor {@code name} of {@code file}, widened to float32 (to compute with exactly what was stored). */
    public static float[] stored(Path file, String name) {
        try (SafetensorsFile weights = SafetensorsFile.open(file)) {
            return weights.readFloats(name);
        }
    }
}

package org.circuittracer.transcoders.community;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * Seeded random per-layer transcoder weights in circuit-tracer's orientation, to be written in every format under test:
 * {@code W_enc [F, d]}, {@code b_enc [F]}, {@code W_dec [F, d]}, {@code b_dec [d]}, optional thresholds {@code [F]} and
 * skip {@code [d, d]} applied as {@code x·W_skipᵀ}. Encoder rows have norm about 1 against standard normal inputs and
 * biases about −0.4, so roughly a third of the features fire.
 *
 * @param features {@code F}
 * @param width    {@code d}
 * @param layers   one per layer
 */
public record TranscoderWeights(int features, int width, List<Layer> layers) {

    /** One layer's weights, row-major. */
    public record Layer(float[] wEnc, float[] bEnc, float[] wDec, float[] bDec, Optional<float[]> threshold,
                        Optional<float[]> wSkip) {
    }

    public static TranscoderWeights random(int layers, int features, int width, long seed, boolean thresholds,
                                           boolean skip) {
        Random random = new Random(seed);
        List<Layer> list = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            list.add(new Layer(gaussian(random, features * width, 1 / Math.sqrt(width)),
                    shifted(random, features, 0.1, -0.4), gaussian(random, features * width, 1),
                    gaussian(random, width, 1),
                    thresholds ? Optional.of(shifted(random, features, 0.15, 0.05)) : Optional.empty(),
                    skip ? Optional.of(gaussian(random, width * width, 0.1)) : Optional.empty()));
        }
        return new TranscoderWeights(features, width, list);
    }

    /** {@code [rows, cols]} → {@code [cols, rows]}. */
    public static float[] transpose(float[] matrix, int rows, int cols) {
        float[] out = new float[matrix.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                out[j * rows + i] = matrix[i * cols + j];
            }
        }
        return out;
    }

    private static float[] gaussian(Random random, int n, double scale) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        return values;
    }

    private static float[] shifted(Random random, int n, double scale, double shift) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * scale + shift);
        }
        return values;
    }
}

package org.circuittracer.transformer.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embedding in Hugging Face's rotate-half convention: a head vector {@code x} of width {@code h} at
 * position {@code p} becomes {@code x·cos + rotate_half(x)·sin}, where {@code cos}/{@code sin} are taken of
 * {@code [θ_0 p, ..., θ_{h/2-1} p, θ_0 p, ..., θ_{h/2-1} p]} and {@code rotate_half([a, b]) = [−b, a]}.
 *
 * <p>Frequencies and angles are computed in float32 exactly as the reference does: for long sequences the rounding
 * of {@code position × frequency} in float32 is visible in the result, so computing it more precisely would differ.
 */
public final class RotaryEmbedding {

    private final float[] inverseFrequencies; // θ_i, [h/2]

    private RotaryEmbedding(float[] inverseFrequencies) {
        this.inverseFrequencies = inverseFrequencies;
    }

    /** The original rotary embedding: {@code θ_i = base^(−2i/h)}. */
    public static RotaryEmbedding standard(double base, int headWidth) {
        float[] inv = new float[headWidth / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / headWidth;
            inv[i] = 1f / (float) Math.pow(base, exponent);
        }
        return new RotaryEmbedding(inv);
    }

    /**
     * Llama 3.1's frequency scaling ({@code rope_scaling.rope_type = "llama3"}): long wavelengths are divided by
     * {@code factor}, short ones kept, and the band between is interpolated smoothly.
     */
    public RotaryEmbedding llama3Scaled(float factor, float lowFreqFactor, float highFreqFactor,
                                        int originalMaxPositions) {
        float lowFreqWavelength = originalMaxPositions / lowFreqFactor;
        float highFreqWavelength = originalMaxPositions / highFreqFactor;
        float[] scaled = new float[inverseFrequencies.length];
        for (int i = 0; i < scaled.length; i++) {
            float inv = inverseFrequencies[i];
            float wavelength = (float) (2 * Math.PI) / inv;
            if (wavelength < highFreqWavelength) {
                scaled[i] = inv;
            } else if (wavelength > lowFreqWavelength) {
                scaled[i] = inv / factor;
            } else {
                float smooth = (originalMaxPositions / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                scaled[i] = (1 - smooth) * inv / factor + smooth * inv;
            }
        }
        return new RotaryEmbedding(scaled);
    }

    /**
     * Linear position interpolation ({@code rope_scaling.rope_type = "linear"}, Gemma 3's global layers): every
     * frequency divided by {@code factor}, as if positions were {@code factor} times closer together.
     */
    public RotaryEmbedding linearScaled(float factor) {
        float[] scaled = new float[inverseFrequencies.length];
        for (int i = 0; i < scaled.length; i++) {
            scaled[i] = inverseFrequencies[i] / factor; // a float32 division, as the reference's in-place divide
        }
        return new RotaryEmbedding(scaled);
    }

    /** The frequencies {@code θ_i} ({@code [h/2]}, a copy), e.g. for exporting the model to another runtime. */
    public float[] inverseFrequencies() {
        return inverseFrequencies.clone();
    }

    /** Width of the rotated head vectors. */
    public int headWidth() {
        return inverseFrequencies.length * 2;
    }

    /**
     * The cosine and sine tables for {@code count} positions starting at {@code firstPosition}.
     *
     * @param manager owns the tables
     * @return {@code cos} and {@code sin}, each {@code [count, h]}
     */
    public Tables tables(NDManager manager, int firstPosition, int count, DataType dataType) {
        int half = inverseFrequencies.length;
        int width = 2 * half;
        float[] cos = new float[count * width];
        float[] sin = new float[count * width];
        for (int t = 0; t < count; t++) {
            float position = firstPosition + t;
            for (int i = 0; i < half; i++) {
                float angle = inverseFrequencies[i] * position; // a float32 product, as in the reference
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                cos[t * width + i] = c;
                cos[t * width + half + i] = c;
                sin[t * width + i] = s;
                sin[t * width + half + i] = s;
            }
        }
        Shape shape = new Shape(count, width);
        return new Tables(manager.create(cos, shape).toType(dataType, false),
                manager.create(sin, shape).toType(dataType, false));
    }

    /**
     * Rotates head vectors.
     *
     * @param x      {@code [..., T, h]}
     * @param tables for the same {@code T} positions
     * @return {@code [..., T, h]}, in {@code x}'s manager
     */
    public static NDArray apply(NDArray x, Tables tables) {
        long half = x.getShape().get(x.getShape().dimension() - 1) / 2;
        NDArray first = x.get("..., :" + half);
        NDArray second = x.get("..., " + half + ":");
        NDArray rotated = second.neg().concat(first, -1);
        return x.mul(tables.cos()).add(rotated.mul(tables.sin()));
    }

    /**
     * Cosine and sine tables.
     *
     * @param cos {@code [T, h]}
     * @param sin {@code [T, h]}
     */
    public record Tables(NDArray cos, NDArray sin) {
    }
}

package org.circuittracer.transcoders.reference;

import java.nio.file.Path;
import java.util.Set;
import org.circuittracer.safetensors.SafetensorsFile;
import org.circuittracer.safetensors.TensorSource;
import org.circuittracer.transcoders.common.ModelKind;
import org.circuittracer.transcoders.common.ReferenceConfig;

/**
 * An independent oracle: the reconstruction {@code ŷ_m = Σ_ℓ a_ℓ·W_dec[ℓ→m] + b_dec_m + x_m·W_skipᵀ} computed on the
 * host in double precision from the raw tensors of the files and the reference's activations (docs/reference/algorithm.md §2.2).
 */
final class HostTranscoder {

    private HostTranscoder() {
    }

    /**
     * @param reference the fixture's {@code reference_activations.safetensors}
     * @param xOut      {@code [T, d]} the input-site value of output layer {@code out} (for the skip term)
     * @return {@code [T, d]}
     */
    static float[] reconstruct(Path dir, ReferenceConfig config, TensorSource reference, int prompt, int out,
                               int length, float[] xOut, Set<Integer> zeroed) {
        int width = xOut.length / length;
        double[] y = new double[length * width];
        boolean perLayer = config.modelKind() == ModelKind.TRANSCODER_SET;
        try (SafetensorsFile bias = SafetensorsFile.open(dir.resolve(perLayer ? "layer_" + out + ".safetensors"
                : "W_enc_" + out + ".safetensors"))) {
            float[] bDec = bias.readFloats(perLayer ? "b_dec" : "b_dec_" + out);
            for (int i = 0; i < y.length; i++) {
                y[i] = bDec[i % width];
            }
            if (bias.contains("W_skip")) {
                float[] skip = bias.readFloats("W_skip"); // [d_out, d_in], applied as x·W_skipᵀ
                for (int p = 0; p < length; p++) {
                    for (int o = 0; o < width; o++) {
                        for (int i = 0; i < width; i++) {
                            y[p * width + o] += (double) xOut[p * width + i] * skip[o * width + i];
                        }
                    }
                }
            }
        }
        for (int source = perLayer ? out : 0; source <= out; source++) {
            float[] a = reference.readFloats("p" + prompt + ".layer" + source + ".activations");
            int features = a.length / length;
            try (SafetensorsFile decoder = SafetensorsFile.open(dir.resolve(perLayer ? "layer_" + out + ".safetensors"
                    : "W_dec_" + source + ".safetensors"))) {
                float[] w = decoder.readFloats(perLayer ? "W_dec" : "W_dec_" + source); // [F, (L−ℓ)·d]
                int stride = w.length / features;
                int offset = (out - source) * width;
                for (int p = 0; p < length; p++) {
                    if (zeroed.contains(p)) {
                        continue;
                    }
                    for (int f = 0; f < features; f++) {
                        double v = a[p * features + f];
                        for (int o = 0; v != 0 && o < width; o++) {
                            y[p * width + o] += v * w[f * stride + offset + o];
                        }
                    }
                }
            }
        }
        float[] result = new float[y.length];
        for (int i = 0; i < y.length; i++) {
            result[i] = (float) y[i];
        }
        return result;
    }
}

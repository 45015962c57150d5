package org.circuittracer.transcoders.mp;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.circuittracer.safetensors.DType;
import org.circuittracer.safetensors.SafetensorsWriter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/** Writes a matching-pursuit dictionary from weights held in memory (training code, tests, converters). */
public final class MatchingPursuitWriter {

    /**
     * One layer's weights, row-major.
     *
     * @param atoms      {@code [F·d]} unit-norm rows (normalised on write if they are not)
     * @param decoder    {@code [F·d]}
     * @param inputBias  {@code [d]}
     * @param outputBias {@code [d]}
     */
    public record LayerWeights(float[] atoms, float[] decoder, float[] inputBias, float[] outputBias) {
    }

    private MatchingPursuitWriter() {
    }

    /** Writes {@code manifest} and one file per layer into {@code directory} (created if needed), in {@code dtype}. */
    public static void write(Path directory, MatchingPursuitManifest manifest, List<LayerWeights> layers, DType dtype) {
        int d = manifest.width();
        int f = manifest.features();
        if (layers.size() != manifest.layers()) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, layers.size()
                    + " layers of weights for a manifest of " + manifest.layers() + ".");
        }
        try {
            Files.createDirectories(directory);
            for (int layer = 0; layer < layers.size(); layer++) {
                LayerWeights w = layers.get(layer);
                if (w.atoms().length != f * d || w.decoder().length != f * d || w.inputBias().length != d
                        || w.outputBias().length != d) {
                    throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Layer " + layer
                            + " weights do not match [F, d] = [" + f + ", " + d + "].");
                }
                new SafetensorsWriter()
                        .addFloats(MatchingPursuitDictionary.ATOMS, dtype, new long[] {f, d}, unitRows(w.atoms(), d))
                        .addFloats(MatchingPursuitDictionary.DECODER, dtype, new long[] {f, d}, w.decoder())
                        .addFloats(MatchingPursuitDictionary.INPUT_BIAS, dtype, new long[] {d}, w.inputBias())
                        .addFloats(MatchingPursuitDictionary.OUTPUT_BIAS, dtype, new long[] {d}, w.outputBias())
                        .write(directory.resolve("layer_" + layer + ".safetensors"));
            }
            manifest.write(directory);
        } catch (IOException e) {
            throw new CircuitTracerException(StandardErrorCode.FILE_NOT_FOUND, "Cannot write " + directory + ": "
                    + e.getMessage(), e);
        }
    }

    private static float[] unitRows(float[] rows, int width) {
        float[] out = rows.clone();
        for (int start = 0; start < out.length; start += width) {
            double norm = 0;
            for (int i = start; i < start + width; i++) {
                norm += (double) out[i] * out[i];
            }
            norm = Math.sqrt(norm);
            for (int i = start; norm > 0 && i < start + width; i++) {
                out[i] = (float) (out[i] / norm);
            }
        }
        return out;
    }
}

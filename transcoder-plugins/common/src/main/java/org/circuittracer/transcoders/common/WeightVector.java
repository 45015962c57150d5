package org.circuittracer.transcoders.common;

import org.circuittracer.safetensors.TensorSource;

/**
 * A small weight vector (bias, thresholds) read into memory as float32, with where it came from for messages.
 *
 * @param values the elements; not copied, never modified
 * @param origin {@code file: tensor [shape]}
 */
public record WeightVector(float[] values, String origin) {

    /** Reads a rank-1 tensor (F32/F16/BF16 converted to float). */
    public static WeightVector read(TensorSource source, String tensor) {
        return new WeightVector(source.readFloats(tensor), source.fileOf(tensor).getFileName() + ": " + tensor + " "
                + source.info(tensor).shapeString());
    }

    public int length() {
        return values.length;
    }
}

package org.circuittracer.spi.dictionary;

import java.util.Arrays;
import org.circuittracer.spi.CircuitTracerException;

/**
 * The active features of one layer over a sequence, in coordinate form sorted by (position, feature). Only
 * non-zero activations are present.
 *
 * @param layer     the source layer
 * @param length    the sequence length {@code T}
 * @param positions {@code [n]} position of each entry
 * @param features  {@code [n]} feature id of each entry
 * @param values    {@code [n]} activation of each entry (non-zero)
 */
public record SparseActivations(int layer, int length, int[] positions, int[] features, float[] values) {

    public SparseActivations {
        if (positions.length != features.length || positions.length != values.length) {
            throw CircuitTracerException.invalidArgument("positions, features and values must have equal lengths: "
                    + positions.length + ", " + features.length + ", " + values.length);
        }
        positions = positions.clone();
        features = features.clone();
        values = values.clone();
        for (int i = 0; i < positions.length; i++) {
            if (positions[i] < 0 || positions[i] >= length) {
                throw CircuitTracerException.invalidArgument("position " + positions[i] + " outside [0, " + length + ")");
            }
            if (i > 0 && (positions[i] < positions[i - 1]
                    || positions[i] == positions[i - 1] && features[i] <= features[i - 1])) {
                throw CircuitTracerException.invalidArgument("entries must be sorted by (position, feature) without duplicates");
            }
        }
    }

    /** Number of active (layer, position, feature) entries. */
    public int size() {
        return positions.length;
    }

    @Override
    public int[] positions() {
        return positions.clone();
    }

    @Override
    public int[] features() {
        return features.clone();
    }

    @Override
    public float[] values() {
        return values.clone();
    }

    public int positionAt(int entry) {
        return positions[entry];
    }

    public int featureAt(int entry) {
        return features[entry];
    }

    public float valueAt(int entry) {
        return values[entry];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SparseActivations that && layer == that.layer && length == that.length
                && Arrays.equals(positions, that.positions) && Arrays.equals(features, that.features)
                && Arrays.equals(values, that.values);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(positions) + Arrays.hashCode(features)) + Arrays.hashCode(values) + layer;
    }

    @Override
    public String toString() {
        return "SparseActivations[layer=" + layer + ", length=" + length + ", active=" + size() + "]";
    }
}

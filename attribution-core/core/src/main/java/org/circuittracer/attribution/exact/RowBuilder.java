package org.circuittracer.attribution.exact;

import java.util.Arrays;

/** One row of direct effects being filled, column by column in ascending order; exact zeros are not stored. */
final class RowBuilder {

    private int[] columns = new int[32];
    private float[] weights = new float[32];
    private int size;
    private boolean nonFinite;

    void add(int column, float weight) {
        if (weight == 0f) {
            return;
        }
        if (!Float.isFinite(weight)) {
            nonFinite = true;
        }
        if (size > 0 && column <= columns[size - 1]) {
            throw new IllegalStateException("columns must be added in ascending order: " + column + " after "
                    + columns[size - 1]);
        }
        if (size == columns.length) {
            columns = Arrays.copyOf(columns, size * 2);
            weights = Arrays.copyOf(weights, size * 2);
        }
        columns[size] = column;
        weights[size++] = weight;
    }

    boolean hasNonFinite() {
        return nonFinite;
    }

    int[] columns() {
        return Arrays.copyOf(columns, size);
    }

    float[] weights() {
        return Arrays.copyOf(weights, size);
    }
}

package org.circuittracer.attribution.exact;

import java.util.Arrays;

/** One row of direct effects being filled, column by column in ascending order; exact zeros are not stored. */
final class RowBuilder {

    private int[] columns = new int[32];
    private float[] weights = new float[32];
    private int size;
    private boolean nonFinite;

    /**
     * Adds the weights {@code src[offset … offset + length)} at columns {@code firstColumn …}, skipping exact zeros;
     * {@code firstColumn} must lie above every column added before.
     */
    void addRun(int firstColumn, float[] src, int offset, int length) {
        if (length == 0) {
            return;
        }
        if (size > 0 && firstColumn <= columns[size - 1]) {
            throw new IllegalStateException("columns must be added in ascending order: " + firstColumn + " after "
                    + columns[size - 1]);
        }
        if (size + length > columns.length) {
            int capacity = Math.max(columns.length * 2, size + length);
            columns = Arrays.copyOf(columns, capacity);
            weights = Arrays.copyOf(weights, capacity);
        }
        int n = size;
        boolean finite = true;
        for (int i = 0; i < length; i++) {
            float weight = src[offset + i];
            if (weight != 0f) {
                finite &= Float.isFinite(weight);
                columns[n] = firstColumn + i;
                weights[n++] = weight;
            }
        }
        size = n;
        nonFinite |= !finite;
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

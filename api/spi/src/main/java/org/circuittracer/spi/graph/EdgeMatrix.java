package org.circuittracer.spi.graph;

import java.util.Arrays;

/**
 * A sparse square matrix in compressed-sparse-row form: row {@code r}'s entries are
 * {@code columns[rowStart[r] … rowStart[r+1])} with {@code weights} at the same indices, columns ascending within a
 * row. Entries not stored are zero. Immutable.
 *
 * @param size     the number of rows and columns (nodes)
 * @param rowStart {@code [size + 1]} offsets into {@code columns}/{@code weights}
 * @param columns  {@code [nnz]} column indices
 * @param weights  {@code [nnz]} values
 */
public record EdgeMatrix(int size, int[] rowStart, int[] columns, float[] weights) {

    public EdgeMatrix {
        if (size < 0 || rowStart.length != size + 1 || rowStart[0] != 0 || columns.length != weights.length
                || rowStart[size] != columns.length) {
            throw new IllegalArgumentException("inconsistent CSR arrays: size " + size + ", rowStart "
                    + rowStart.length + ", columns " + columns.length + ", weights " + weights.length);
        }
        for (int r = 0; r < size; r++) {
            if (rowStart[r + 1] < rowStart[r] || rowStart[r + 1] > columns.length) {
                throw new IllegalArgumentException("rowStart must be non-decreasing and at most " + columns.length
                        + " (row " + r + ")");
            }
            for (int i = rowStart[r]; i < rowStart[r + 1]; i++) {
                if (columns[i] < 0 || columns[i] >= size || i > rowStart[r] && columns[i] <= columns[i - 1]) {
                    throw new IllegalArgumentException("row " + r + ": columns must be ascending within [0, " + size + ")");
                }
            }
        }
        rowStart = rowStart.clone();
        columns = columns.clone();
        weights = weights.clone();
    }

    /** Builds a matrix from a dense row-major array, keeping the non-zero entries. */
    public static EdgeMatrix fromDense(int size, float[] dense) {
        if (dense.length != (long) size * size) {
            throw new IllegalArgumentException("dense array has " + dense.length + " entries, expected " + size + "²");
        }
        int[] rowStart = new int[size + 1];
        int nnz = 0;
        for (float v : dense) {
            nnz += v != 0 ? 1 : 0;
        }
        int[] columns = new int[nnz];
        float[] weights = new float[nnz];
        int k = 0;
        for (int r = 0; r < size; r++) {
            for (int c = 0; c < size; c++) {
                float v = dense[r * size + c];
                if (v != 0) {
                    columns[k] = c;
                    weights[k++] = v;
                }
            }
            rowStart[r + 1] = k;
        }
        return new EdgeMatrix(size, rowStart, columns, weights);
    }

    /** Number of stored entries. */
    public int nonZeros() {
        return columns.length;
    }

    /** The entry {@code A[target, source]} (0 when not stored). */
    public float get(int target, int source) {
        int from = rowStart[target];
        int to = rowStart[target + 1];
        int i = Arrays.binarySearch(columns, from, to, source);
        return i >= 0 ? weights[i] : 0f;
    }

    @Override
    public int[] rowStart() {
        return rowStart.clone();
    }

    @Override
    public int[] columns() {
        return columns.clone();
    }

    @Override
    public float[] weights() {
        return weights.clone();
    }

    /** Number of stored entries in row {@code target}. */
    public int rowSize(int target) {
        return rowStart[target + 1] - rowStart[target];
    }

    /** The {@code i}-th stored column of row {@code target}. */
    public int columnAt(int target, int i) {
        return columns[rowStart[target] + i];
    }

    /** The {@code i}-th stored weight of row {@code target}. */
    public float weightAt(int target, int i) {
        return weights[rowStart[target] + i];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EdgeMatrix that && size == that.size && Arrays.equals(rowStart, that.rowStart)
                && Arrays.equals(columns, that.columns) && Arrays.equals(weights, that.weights);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(rowStart) + Arrays.hashCode(columns)) + Arrays.hashCode(weights);
    }

    @Override
    public String toString() {
        return "EdgeMatrix[size=" + size + ", nonZeros=" + nonZeros() + "]";
    }
}

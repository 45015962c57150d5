package org.circuittracer.attribution.exact;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The rows computed so far, sparse, in computation order: logit rows first, then feature rows as they are visited.
 * Columns are in the unpruned space {@code [0, N_act + (L+1)·T)} (every active feature, then errors, then tokens);
 * rows are identified by their node in the space {@code [0, N_act + (L+1)·T + K)}.
 */
final class EdgeRows {

    private final List<int[]> columns = new ArrayList<>();
    private final List<float[]> weights = new ArrayList<>();
    private int[] nodes = new int[64];
    private double[] absoluteSums = new double[64];

    void add(int node, int[] rowColumns, float[] rowWeights) {
        int r = columns.size();
        if (r == nodes.length) {
            nodes = Arrays.copyOf(nodes, r * 2);
            absoluteSums = Arrays.copyOf(absoluteSums, r * 2);
        }
        double sum = 0;
        for (float w : rowWeights) {
            sum += Math.abs(w);
        }
        nodes[r] = node;
        absoluteSums[r] = sum;
        columns.add(rowColumns);
        weights.add(rowWeights);
    }

    int size() {
        return columns.size();
    }

    int node(int row) {
        return nodes[row];
    }

    /** The row's columns (not copied: do not modify). */
    int[] columns(int row) {
        return columns.get(row);
    }

    /** The row's weights (not copied: do not modify). */
    float[] weights(int row) {
        return weights.get(row);
    }

    /** {@code Σ |weights|} of the row. */
    double absoluteSum(int row) {
        return absoluteSums[row];
    }
}

package org.circuittracer.attribution.exact;

import java.util.Arrays;
import org.circuittracer.attribution.replacement.ActiveFeatures;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * An upper bound on a graph's stored edges, known before any row is computed: a feature at layer {@code l} and position
 * {@code p} can only receive edges from active features of lower layers at positions up to {@code p}, from their error
 * nodes and from the tokens up to {@code p}; a logit from every column. Rows are close to dense within that causal cone,
 * so the bound is nearly tight. One matrix holds at most {@link #MAX_EDGES} edges (its offsets are Java ints): a graph
 * that could exceed that is refused before the hours of work, not after.
 */
final class EdgeBound {

    /** The most stored entries one {@code EdgeMatrix} can hold. */
    static final long MAX_EDGES = Integer.MAX_VALUE - 8;

    private EdgeBound() {
    }

    /** Per active feature, the most entries its row can have. */
    static long[] rowBounds(ActiveFeatures active, int layers, int length) {
        int[] layerOf = new int[active.size()];
        int[] positionOf = new int[active.size()];
        for (int i = 0; i < layerOf.length; i++) {
            layerOf[i] = active.layer(i);
            positionOf[i] = active.position(i);
        }
        return rowBounds(layerOf, positionOf, layers, length);
    }

    /** The same from each active feature's layer and position. */
    static long[] rowBounds(int[] layerOf, int[] positionOf, int layers, int length) {
        long[][] count = new long[layers][length];
        for (int i = 0; i < layerOf.length; i++) {
            count[layerOf[i]][positionOf[i]]++;
        }
        // below[l][p]: active features of layers < l at positions ≤ p
        long[][] below = new long[layers + 1][length];
        for (int l = 0; l < layers; l++) {
            long running = 0;
            for (int p = 0; p < length; p++) {
                running += count[l][p];
                below[l + 1][p] = below[l][p] + running;
            }
        }
        long[] bounds = new long[layerOf.length];
        for (int i = 0; i < bounds.length; i++) {
            int l = layerOf[i];
            int p = positionOf[i];
            bounds[i] = below[l][p] + (long) l * (p + 1) + (p + 1);
        }
        return bounds;
    }

    /**
     * Refuses a request whose graph could hold more than {@link #MAX_EDGES} edges.
     *
     * @param rowBounds per active feature, from {@link #rowBounds}
     * @param cap       feature rows that will be computed
     * @param logitRows logit rows
     * @param columns   the unpruned columns, {@code N_act + (L+1)·T}
     */
    static void check(long[] rowBounds, int cap, int logitRows, long columns) {
        long[] sorted = rowBounds.clone();
        Arrays.sort(sorted);
        long total = (long) logitRows * columns;
        int fitting = 0;
        for (int k = 0; k < cap; k++) {
            total += sorted[sorted.length - 1 - k];
            if (total <= MAX_EDGES) {
                fitting = k + 1;
            }
        }
        if (total > MAX_EDGES) {
            throw new CircuitTracerException(StandardErrorCode.OUT_OF_RESOURCES, "This graph could hold up to " + total
                    + " edges (" + cap + " feature rows of up to " + sorted[sorted.length - 1] + " columns and "
                    + logitRows + " logit rows of " + columns + "), more than one graph can store (" + MAX_EDGES
                    + "). Lower --max-feature-nodes to at most " + fitting + ", or shorten the prompt.");
        }
    }
}

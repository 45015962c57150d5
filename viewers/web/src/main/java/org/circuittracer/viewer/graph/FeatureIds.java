package org.circuittracer.viewer.graph;

import org.circuittracer.viewer.ViewerErrors;

/** The paired feature ids of graph files (docs/reference/graph-format.md §2.4.3, Cantor pairing). */
public final class FeatureIds {

    /** A feature's layer and index within the layer. */
    public record LayerIndex(int layer, long index) {
    }

    private FeatureIds() {
    }

    public static long pair(int layer, long index) {
        long s = layer + index;
        return s * (s + 1) / 2 + index;
    }

    public static LayerIndex unpair(long z) {
        if (z < 0) {
            throw ViewerErrors.badRequest("Feature id " + z + " is negative; paired feature ids are >= 0.");
        }
        long w = (long) Math.floor((Math.sqrt(8.0 * z + 1) - 1) / 2);
        while (w * (w + 1) / 2 > z) {
            w--;
        }
        while ((w + 1) * (w + 2) / 2 <= z) {
            w++;
        }
        long index = z - w * (w + 1) / 2;
        long layer = w - index;
        if (layer > Integer.MAX_VALUE) {
            throw ViewerErrors.badRequest("Feature id " + z + " decodes to layer " + layer + ", which is not a layer.");
        }
        return new LayerIndex((int) layer, index);
    }
}

package org.circuittracer.viewer.graph;

import org.circuittracer.viewer.ViewerErrors;

/** The paired feature ids of graph files (docs/reference/graph-format.md §2.4.3, Cantor pairing). */
public final class FeatureIds {

    /** A feature's layer and index within the layer. */
    public record LayerIndex(int layer, long index) {
    }

    /**
     * Ids from here on would overflow the triangular numbers of the decoding (w(w+1)/2 past 2^63), which made it loop
     * for ever (found by HttpRouteFuzzTest: {@code GET /api/features/9223372036854775807}); T(3037000499).
     */
    static final long MAX_PAIRED = 4_611_686_016_981_624_750L;

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
        if (z >= MAX_PAIRED) {
            throw ViewerErrors.badRequest("Feature id " + z + " is larger than any paired feature id (at most "
                    + (MAX_PAIRED - 1) + "); give the node's \"feature\" number.");
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

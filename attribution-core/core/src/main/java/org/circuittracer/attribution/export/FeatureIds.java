package org.circuittracer.attribution.export;

import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * Paired feature ids (docs/reference/graph-format.md §2.4.3): the Cantor pairing {@code (L + f)(L + f + 1)/2 + f} of a
 * feature's layer {@code L} and index {@code f}. A graph's feature node carries it in {@code feature}; it names the
 * feature's dashboard file ({@code <z>.json}) and locates its record in the packed layout. The exporter, the dashboard
 * files and the viewer all use this one implementation, so that every feature node finds its dashboard.
 */
public final class FeatureIds {

    /** A feature's layer and index within the layer. */
    public record LayerIndex(int layer, long index) {
    }

    /**
     * Ids from here on would overflow the triangular numbers of the decoding (w(w+1)/2 past 2^63), which made it loop
     * for ever (found by the viewer's HttpRouteFuzzTest: {@code GET /api/features/9223372036854775807}); T(3037000499).
     */
    static final long MAX_PAIRED = 4_611_686_016_981_624_750L;

    private FeatureIds() {
    }

    /**
     * The paired id of feature {@code index} of {@code layer}.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT for a negative layer or index, or a pair past {@link #MAX_PAIRED}
     */
    public static long pair(int layer, long index) {
        if (layer < 0 || index < 0 || index >= 3_037_000_499L - layer) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Layer and feature index must be "
                    + "non-negative and their sum below 3037000499, got layer " + layer + ", feature " + index + ".");
        }
        long s = layer + index;
        return s * (s + 1) / 2 + index;
    }

    /**
     * The layer and index of a paired id.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT for a negative id, one past any pairing, or one whose layer
     *         exceeds {@code int}
     */
    public static LayerIndex unpair(long z) {
        if (z < 0) {
            throw invalid("Feature id " + z + " is negative; paired feature ids are >= 0.");
        }
        if (z >= MAX_PAIRED) {
            throw invalid("Feature id " + z + " is larger than any paired feature id (at most " + (MAX_PAIRED - 1)
                    + "); give the node's \"feature\" number.");
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
            throw invalid("Feature id " + z + " decodes to layer " + layer + ", which is not a layer.");
        }
        return new LayerIndex((int) layer, index);
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, message);
    }
}

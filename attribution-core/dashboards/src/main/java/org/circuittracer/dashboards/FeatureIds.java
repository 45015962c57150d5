package org.circuittracer.dashboards;

import org.circuittracer.attribution.export.GraphJsonExporter;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * Paired feature ids (docs/reference/graph-format.md §2.4.3): the number a graph's feature node carries in {@code feature}, which
 * names the feature's file ({@code <z>.json}) and locates its record in the packed layout. The same pairing as
 * {@link GraphJsonExporter#pair}, so that a viewer finds the dashboard of every feature node of our graphs.
 */
public final class FeatureIds {

    private FeatureIds() {
    }

    /** {@code (L + f)(L + f + 1)/2 + f}. */
    public static long pair(int layer, int feature) {
        if (layer < 0 || feature < 0) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Layer and feature index must be "
                    + "non-negative, got layer " + layer + ", feature " + feature + ".");
        }
        return GraphJsonExporter.pair(layer, feature);
    }

    /**
     * {@code {layer, feature}} of a paired id.
     *
     * @throws CircuitTracerException INVALID_ARGUMENT for a negative id or one whose parts exceed {@code int}
     */
    public static int[] unpair(long z) {
        if (z < 0 || z > (1L << 53)) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Paired feature id " + z
                    + " is outside [0, 2^53]; it is not a feature id of a graph file.");
        }
        long w = (long) Math.floor((Math.sqrt(8.0 * z + 1) - 1) / 2);
        while (w * (w + 1) / 2 > z) {
            w--;
        }
        while ((w + 1) * (w + 2) / 2 <= z) {
            w++;
        }
        long feature = z - w * (w + 1) / 2;
        long layer = w - feature;
        if (layer > Integer.MAX_VALUE || feature > Integer.MAX_VALUE) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Paired feature id " + z
                    + " decodes to layer " + layer + ", feature " + feature + ", beyond any dictionary.");
        }
        return new int[] {(int) layer, (int) feature};
    }
}

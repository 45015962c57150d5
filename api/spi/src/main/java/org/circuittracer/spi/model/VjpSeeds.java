package org.circuittracer.spi.model;

import ai.djl.ndarray.NDArray;
import java.util.Arrays;
import java.util.Objects;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;

/**
 * A batch of {@code B} cotangent seeds, one per lane: lane {@code i} injects {@code vectors[i]} at position
 * {@code positions[i]} of the read site of layer {@code layers[i]}, or at {@code unembed.hook_in} when
 * {@code layers[i] == }{@link #UNEMBED}.
 *
 * @param layers    {@code [B]} target layers, or {@link #UNEMBED}
 * @param positions {@code [B]} target positions
 * @param vectors   {@code [B, d]} the cotangent vectors (encoder rows for features, logit directions for logits)
 */
public record VjpSeeds(int[] layers, int[] positions, NDArray vectors) {

    /** The layer value of a seed at the final normalised residual (a logit target). */
    public static final int UNEMBED = Integer.MAX_VALUE;

    public VjpSeeds {
        Objects.requireNonNull(vectors, "vectors");
        if (layers.length != positions.length || vectors.getShape().dimension() != 2
                || vectors.getShape().get(0) != layers.length || layers.length == 0) {
            throw new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "VJP seeds need B ≥ 1 layers, B positions"
                    + " and a [B, d] vector array; got " + layers.length + " layers, " + positions.length
                    + " positions and " + vectors.getShape() + ".");
        }
        layers = layers.clone();
        positions = positions.clone();
    }

    public int lanes() {
        return layers.length;
    }

    @Override
    public int[] layers() {
        return layers.clone();
    }

    @Override
    public int[] positions() {
        return positions.clone();
    }

    /** The highest block whose write site can receive gradient from this batch (exclusive bound for features). */
    public int layerBound(int modelLayers) {
        return Arrays.stream(layers).map(l -> l == UNEMBED ? modelLayers : l).max().orElse(0);
    }

    /** One past the highest seeded position: later positions receive no gradient (causal attention). */
    public int positionBound() {
        return Arrays.stream(positions).max().orElse(0) + 1;
    }
}

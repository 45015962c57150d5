package org.circuittracer.spi.model;

import ai.djl.ndarray.NDArray;
import java.util.List;
import java.util.Objects;
import org.circuittracer.spi.CircuitTracerException;

/**
 * A batch of {@code B} cotangent seeds, one per lane: lane {@code i} injects {@code vectors[i]} at
 * {@code sites[i]}, the read site of a layer or the final normalised residual ({@link SeedSite}).
 *
 * <p>The int-array views ({@link #positions()}, {@link #depths(int)}) are for engines that sweep a batch at once;
 * each call makes a fresh array, so take them once per batch.
 *
 * @param sites   {@code [B]} where each lane is seeded
 * @param vectors {@code [B, d]} the cotangent vectors (encoder rows for features, logit directions for logits)
 */
public record VjpSeeds(List<SeedSite> sites, NDArray vectors) {

    /**
     * @throws CircuitTracerException INVALID_ARGUMENT for no sites, a null site, or vectors that are not {@code [B, d]}
     */
    public VjpSeeds {
        if (sites == null || vectors == null) {
            throw CircuitTracerException.invalidArgument("VJP seeds need their sites and vectors.");
        }
        if (sites.stream().anyMatch(Objects::isNull)) {
            throw CircuitTracerException.invalidArgument("VJP seed sites must not be null.");
        }
        sites = List.copyOf(sites);
        if (sites.isEmpty() || vectors.getShape().dimension() != 2 || vectors.getShape().get(0) != sites.size()) {
            throw CircuitTracerException.invalidArgument("VJP seeds need B >= 1 sites and a [B, d] vector array; got "
                    + sites.size() + " sites and " + vectors.getShape() + ".");
        }
    }

    /** The number of lanes {@code B}. */
    public int lanes() {
        return sites.size();
    }

    /** {@code [B]} the seeded positions. */
    public int[] positions() {
        return sites.stream().mapToInt(SeedSite::position).toArray();
    }

    /** {@code [B]} each lane's {@link SeedSite#depth depth}: its layer, or {@code modelLayers} for the unembedding. */
    public int[] depths(int modelLayers) {
        return sites.stream().mapToInt(s -> s.depth(modelLayers)).toArray();
    }

    /**
     * The deepest seed ({@code modelLayers} if any lane seeds the unembedding): write sites below it can receive
     * gradient from this batch (an exclusive bound for features).
     */
    public int layerBound(int modelLayers) {
        return sites.stream().mapToInt(s -> s.depth(modelLayers)).max().orElse(0);
    }

    /** One past the highest seeded position: later positions receive no gradient (causal attention). */
    public int positionBound() {
        return sites.stream().mapToInt(SeedSite::position).max().orElse(0) + 1;
    }
}

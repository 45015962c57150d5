package org.circuittracer.spi.model;

import ai.djl.ndarray.NDArray;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Gradients of a {@link VjpSeeds} batch at the write sites of the linearised model. The arrays belong to the
 * manager passed to {@link LinearizedModel#vjp}.
 *
 * @param writeSiteGradients layer → {@code [B, P, d]}: gradient with respect to the value added to the residual at
 *                           that layer's write site, for positions {@code 0 … P-1} with
 *                           {@code P = seeds.positionBound()}; layers absent from the map receive exactly zero
 *                           (they lie at or above every seed's layer)
 * @param embeddingGradient  {@code [B, P, d]} gradient with respect to the token embeddings ({@code hook_embed})
 * @param positions          {@code P}
 */
public record VjpResult(Map<Integer, NDArray> writeSiteGradients, NDArray embeddingGradient, int positions) {

    public VjpResult {
        writeSiteGradients = Map.copyOf(writeSiteGradients);
        Objects.requireNonNull(embeddingGradient, "embeddingGradient");
    }

    /** The gradient at {@code layer}'s write site, or empty when it is structurally zero. */
    public Optional<NDArray> writeSiteGradient(int layer) {
        return Optional.ofNullable(writeSiteGradients.get(layer));
    }
}

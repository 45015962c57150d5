package org.circuittracer.transformer.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * The input embeddings.
 *
 * @param tokens    {@code [V, d]}
 * @param positions {@code [P, d]} learned absolute positions (GPT-2)
 * @param scale     multiplies token embeddings as they enter the residual (Gemma: √d); 1 otherwise
 */
public record Embeddings(NDArray tokens, Optional<NDArray> positions, float scale) {

    public Embeddings {
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(positions, "positions");
    }

    /** The (scaled) embeddings of {@code ids}: {@code [T, d]}, a new array in {@code manager}. */
    public NDArray embed(NDManager manager, int[] ids) {
        NDArray index = manager.create(Arrays.stream(ids).asLongStream().toArray());
        NDArray rows = tokens.get(manager, new NDIndex("{}", index));
        return scale == 1f ? rows : rows.mul(scale);
    }

    /** Position embeddings of {@code count} positions from {@code first}: {@code [count, d]} in {@code manager}. */
    public NDArray positionsOf(NDManager manager, int first, int count) {
        NDArray table = positions.orElseThrow(() -> new IllegalStateException("no learned position embeddings"));
        // a copy, not a view: hook functions may change site values in place, and the table may be a read-only mapping
        return table.get(manager, new NDIndex(first + ":" + (first + count))).duplicate();
    }
}

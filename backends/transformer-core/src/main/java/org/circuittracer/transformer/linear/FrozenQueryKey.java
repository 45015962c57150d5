package org.circuittracer.transformer.linear;

import ai.djl.ndarray.NDArray;

/**
 * One attention layer's queries and keys as linear maps of a change of its input residual ({@code hook_resid_pre}),
 * with every norm scale frozen at its clean value (the pre-attention norm, and per-head query and key norms where the
 * architecture has them) and the rotary embedding of the position applied: what QK attribution splits
 * (docs/attention.md). Biases are not part of the maps; they are in the clean vectors.
 */
public interface FrozenQueryKey {

    /** {@code [S, d]} changes at {@code position} → {@code [S, dh]} changes of head {@code head}'s query there. */
    NDArray queries(NDArray changes, int head, int position);

    /** {@code [S, d]} changes at {@code position} → {@code [S, dh]} changes of key/value head {@code kvHead}'s key. */
    NDArray keys(NDArray changes, int kvHead, int position);

    /** {@code [dh]}: the clean query of {@code head} at {@code position}, float32. */
    float[] cleanQuery(int head, int position);

    /** {@code [dh]}: the clean key of {@code kvHead} at {@code position}, float32. */
    float[] cleanKey(int kvHead, int position);

    /** What multiplies {@code ⟨q, k⟩} in the score. */
    float scale();

    /** {@code c > 0} when the scores are soft-capped to {@code c·tanh(score / c)}; 0 otherwise. */
    float logitSoftcap();

    /** Query heads per key/value head. */
    int groupSize();

    /**
     * A map built by {@code build} when first used (once, thread-safely): a backend that reads the query and key
     * weights only for QK attribution does not read them for every linearisation.
     */
    static FrozenQueryKey lazy(java.util.function.Supplier<FrozenQueryKey> build) {
        java.util.Objects.requireNonNull(build, "build");
        java.util.function.Supplier<FrozenQueryKey> built = Once.of(build);
        return new FrozenQueryKey() {
            private FrozenQueryKey get() {
                return built.get();
            }

            @Override
            public NDArray queries(NDArray changes, int head, int position) {
                return get().queries(changes, head, position);
            }

            @Override
            public NDArray keys(NDArray changes, int kvHead, int position) {
                return get().keys(changes, kvHead, position);
            }

            @Override
            public float[] cleanQuery(int head, int position) {
                return get().cleanQuery(head, position);
            }

            @Override
            public float[] cleanKey(int kvHead, int position) {
                return get().cleanKey(kvHead, position);
            }

            @Override
            public float scale() {
                return get().scale();
            }

            @Override
            public float logitSoftcap() {
                return get().logitSoftcap();
            }

            @Override
            public int groupSize() {
                return get().groupSize();
            }
        };
    }
}

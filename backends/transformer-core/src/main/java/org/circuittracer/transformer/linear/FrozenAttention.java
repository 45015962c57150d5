package org.circuittracer.transformer.linear;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.Objects;

/**
 * The value/output path of one attention layer with its probabilities frozen: {@code att = Σ_h P_h · (u·V_kv(h)) · O_h}.
 * Queries, keys, rotary embeddings, soft-caps and windows only shape {@code P}, so they drop out; biases are constants.
 *
 * <p>The adjoint holds {@code O(H·P² + B·P·d)} floats: every lane goes into the columns of one matrix per key/value
 * head ({@code [P, G·P] × [G·P, B·dh]}), never a {@code [B, H, P, P]} broadcast. When {@code H·P²} exceeds the block
 * budget, the pattern is visited in blocks of keys (each block needs only the queries from its first key on, so
 * causality halves the work), and a {@link Pattern} that recomputes its entries never materialises the whole
 * {@code [H, P, P]}.
 */
public final class FrozenAttention {

    /** Floats of one block of the pattern ({@code H × queries × keys}) in the adjoint: 64 MiB. */
    public static final long DEFAULT_BLOCK_FLOATS = 1L << 24;

    /** The frozen probabilities, handed out in blocks of query rows or of keys. */
    public interface Pattern {

        /**
         * {@code [H, count, keys]}: the probabilities of queries {@code first … first + count − 1} over keys
         * {@code 0 … keys − 1} (causality: {@code keys ≥ first + count} covers every key they see), float32, owned by
         * {@code manager}.
         */
        NDArray rows(NDManager manager, int first, int count, int keys);

        /**
         * What producing one entry costs, in multiply-adds (the sweep's cost model weighs lane groups with it): about
         * one for a stored pattern (a slice copy), more for one recomputed from queries and keys.
         */
        default double entryCost() {
            return 1;
        }

        /**
         * {@code [H, P − first, count]}: the probabilities of queries {@code first … P − 1} at keys
         * {@code first … first + count − 1} (earlier queries cannot see these keys), float32, owned by
         * {@code manager}.
         */
        NDArray columns(NDManager manager, int first, int count, int queries);

        /** A recorded {@code [H, T, T]} pattern (query, key), sliced without copies. */
        static Pattern recorded(NDArray queriesByKeys) {
            Objects.requireNonNull(queriesByKeys, "queriesByKeys");
            if (queriesByKeys.getShape().dimension() != 3) {
                throw new IllegalArgumentException("a recorded pattern is [H, T, T], got " + queriesByKeys.getShape());
            }
            return new Pattern() {
                @Override
                public NDArray rows(NDManager manager, int first, int count, int keys) {
                    return slice(manager, new NDIndex(":, {}:{}, :{}", first, first + count, keys));
                }

                @Override
                public NDArray columns(NDManager manager, int first, int count, int queries) {
                    return slice(manager, new NDIndex(":, {}:{}, {}:{}", first, queries, first, first + count));
                }

                private NDArray slice(NDManager manager, NDIndex index) {
                    NDArray slice = queriesByKeys.get(index);
                    slice.attach(manager);
                    return slice;
                }
            };
        }
    }

    private final Pattern pattern;
    private final NDArray valueAdjoint;
    private final NDArray outputAdjoint;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final long blockFloats;

    /**
     * The attention of a recorded pattern.
     *
     * @param keysByQueries {@code [H, T, T]} the clean attention probabilities transposed to [head, key, query] (a
     *                      transposed view of the recorded [head, query, key] pattern)
     * @param valueAdjoint  {@code [KV·dh, d]} the transpose of the map from the attention input {@code u} to the values
     * @param outputAdjoint {@code [d, H·dh]} the transpose of the map from the concatenated head outputs to the
     *                      attention output
     * @param heads    query heads {@code H}
     * @param kvHeads  key/value heads {@code KV}; query head {@code h} reads value head {@code h / (H / KV)}
     * @param headDim  {@code dh}
     */
    public FrozenAttention(NDArray keysByQueries, NDArray valueAdjoint, NDArray outputAdjoint, int heads, int kvHeads,
                           int headDim) {
        this(Pattern.recorded(Objects.requireNonNull(keysByQueries, "keysByQueries").transpose(0, 2, 1)),
                valueAdjoint, outputAdjoint, heads, kvHeads, headDim, DEFAULT_BLOCK_FLOATS);
    }

    /**
     * The attention of any pattern source.
     *
     * @param blockFloats at most this many pattern floats per block of keys (at least one key per block)
     */
    public FrozenAttention(Pattern pattern, NDArray valueAdjoint, NDArray outputAdjoint, int heads, int kvHeads,
                           int headDim, long blockFloats) {
        this.pattern = Objects.requireNonNull(pattern, "pattern");
        this.valueAdjoint = Objects.requireNonNull(valueAdjoint, "valueAdjoint");
        this.outputAdjoint = Objects.requireNonNull(outputAdjoint, "outputAdjoint");
        if (heads <= 0 || kvHeads <= 0 || headDim <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("bad head counts: " + heads + " heads, " + kvHeads
                    + " key/value heads, width " + headDim + " (heads must be a multiple of kvHeads)");
        }
        if (blockFloats <= 0) {
            throw new IllegalArgumentException("blockFloats must be positive, got " + blockFloats);
        }
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.blockFloats = blockFloats;
    }

    public Pattern pattern() {
        return pattern;
    }

    public NDArray valueAdjoint() {
        return valueAdjoint;
    }

    public NDArray outputAdjoint() {
        return outputAdjoint;
    }

    public int heads() {
        return heads;
    }

    public int kvHeads() {
        return kvHeads;
    }

    public int headDim() {
        return headDim;
    }

    /** Floats of one block of the pattern in {@link #adjoint}. */
    public long blockFloats() {
        return blockFloats;
    }

    /**
     * The same attention with a norm gain {@code γ [d]} folded into its input side: the adjoint then returns
     * {@code γ ⊙ ḡ(u)}, so the preceding norm's adjoint can skip its gain (exact: the gain is diagonal). The new
     * weight belongs to the value adjoint's manager.
     */
    public FrozenAttention withInputGain(NDArray gain) {
        return new FrozenAttention(pattern, valueAdjoint.mul(gain), outputAdjoint, heads, kvHeads, headDim,
                blockFloats);
    }

    /**
     * The same attention with a (not centred) post-norm's gain {@code γ [d]} folded into its output side: the adjoint
     * then takes {@code ḡ} where it took {@code γ ⊙ ḡ}. The new weight belongs to the output adjoint's manager.
     */
    public FrozenAttention withOutputGain(NDArray gain) {
        return new FrozenAttention(pattern, valueAdjoint, outputAdjoint.mul(gain.reshape(gain.size(), 1)), heads,
                kvHeads, headDim, blockFloats);
    }

    /**
     * The adjoint on the first {@code positions} positions (causality makes later positions irrelevant).
     *
     * @param gradient {@code [B, P, d]} gradient at the attention output
     * @return {@code [B, P, d]} gradient at the attention input {@code u}, owned by the gradient's manager
     */
    public NDArray adjoint(NDArray gradient, int positions) {
        long lanes = gradient.getShape().get(0);
        long width = gradient.getShape().get(2);
        int p = positions;
        int group = heads / kvHeads;
        long columns = lanes * headDim;
        NDManager owner = gradient.getManager();
        try (NDManager scope = owner.newSubManager()) {
            scope.tempAttachAll(gradient); // temporaries land in scope and are freed on return
            // [B·P, H·dh] → [H, P, B·dh]: one matrix per head, lanes in the columns (the one copy of the per-head
            // values)
            NDArray perHead = gradient.reshape(lanes * p, width).matMul(outputAdjoint)
                    .reshape(lanes, p, heads, headDim).transpose(2, 1, 0, 3).reshape(heads, p, columns);
            int keysPerBlock = (int) Math.max(1, Math.min(p, blockFloats / ((long) heads * p)));
            NDArray values; // [KV, P (key), B·dh]
            if (keysPerBlock >= p) {
                // a group's query rows stacked ([KV, G·P, B·dh], a view): the group sum happens inside the product
                values = keysByStackedQueries(scope, p).matMul(perHead.reshape(kvHeads, (long) group * p, columns));
            } else {
                // blocks of keys: the block's probabilities for every later query, then its rows of the result
                values = byKeyBlocks(scope, perHead, p, keysPerBlock, group > 1);
            }
            // [KV, P, B, dh] → [B·P, KV·dh] (the one copy back to lane-major rows), then the value projection
            NDArray result = values.reshape(kvHeads, p, lanes, headDim).transpose(2, 1, 0, 3)
                    .reshape(lanes * p, (long) kvHeads * headDim).matMul(valueAdjoint).reshape(lanes, p, width);
            result.attach(owner);
            return result;
        }
    }

    /**
     * The frozen attention applied forwards on the first {@code positions} positions (a linear map: the value biases,
     * constants, are left out): {@code Σ_h P_h · (u·V_kv(h)) · O_h}.
     *
     * @param input {@code [S, P, d]} a change of the attention input {@code u} (after the pre-attention norm)
     * @return {@code [S, P, d]} the change of the attention output, owned by the input's manager
     */
    public NDArray forward(NDArray input, int positions) {
        long sources = input.getShape().get(0);
        long width = input.getShape().get(2);
        int p = positions;
        int group = heads / kvHeads;
        NDManager owner = input.getManager();
        try (NDManager scope = owner.newSubManager()) {
            scope.tempAttachAll(input);
            // [S·P, KV·dh] → [KV, P (key), S·dh]
            NDArray values = input.reshape(sources * p, width).matMul(valueAdjoint.transpose())
                    .reshape(sources, p, kvHeads, headDim).transpose(2, 1, 0, 3).reshape(kvHeads, p, sources * headDim);
            // blocks of query rows, each over the keys it sees: [KV, G·count, keys] × [KV, keys, S·dh]
            int rowsPerBlock = (int) Math.max(1, Math.min(p, blockFloats / ((long) heads * p)));
            NDList parts = new NDList();
            for (int first = 0; first < p; first += rowsPerBlock) {
                int count = Math.min(rowsPerBlock, p - first);
                int keys = first + count;
                try (NDManager block = scope.newSubManager()) {
                    NDArray rows = pattern.rows(block, first, count, keys).reshape(kvHeads, (long) group * count, keys);
                    NDArray seen = values.get(new NDIndex(":, :{}, :", keys));
                    seen.attach(block);
                    NDArray part = rows.matMul(seen).reshape(heads, count, sources * headDim); // [H, count, S·dh]
                    part.attach(scope);
                    parts.add(part);
                }
            }
            NDArray all = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 1); // [H, P, S·dh]
            NDArray mixed = all.reshape(heads, p, sources, headDim).transpose(2, 1, 0, 3).reshape(sources * p,
                    (long) heads * headDim);
            NDArray result = mixed.matMul(outputAdjoint.transpose()).reshape(sources, p, width);
            result.attach(owner);
            return result;
        }
    }

    /**
     * The values each query head reads, for a change of the attention input: {@code U[s, h] = u_s · V_kv(h)} on the
     * first {@code positions} positions, flattened over (key position, head width).
     *
     * @param input {@code [S, P, d]}
     * @return {@code [S, H, P·dh]}, owned by the input's manager
     */
    public NDArray headValues(NDArray input, int positions) {
        long sources = input.getShape().get(0);
        long width = input.getShape().get(2);
        int group = heads / kvHeads;
        NDManager owner = input.getManager();
        try (NDManager scope = owner.newSubManager()) {
            scope.tempAttachAll(input);
            NDArray values = input.reshape(sources * positions, width).matMul(valueAdjoint.transpose())
                    .reshape(sources, positions, kvHeads, headDim).transpose(0, 2, 1, 3); // [S, KV, P, dh]
            NDArray result = values.expandDims(2).broadcast(new Shape(sources, kvHeads, group, positions, headDim))
                    .reshape(sources, heads, (long) positions * headDim);
            result.attach(owner);
            return result;
        }
    }

    /**
     * The gradient at each query head's values, for a gradient at the attention output:
     * {@code Z[t, h, k] = Σ_q P_h[q, k] · (ḡ_t[q] · O_hᵀ)} on the first {@code positions} positions, flattened over (key
     * position, head width). {@code ⟨Z[t, h], U[s, h]⟩} ({@link #headValues}) is then the part of
     * {@code ⟨ḡ_t, forward(u_s)⟩} that head {@code h} carries.
     *
     * @param gradient {@code [B, P, d]} gradient at the attention output
     * @return {@code [B, H, P·dh]}, owned by the gradient's manager
     */
    public NDArray headGradients(NDArray gradient, int positions) {
        long lanes = gradient.getShape().get(0);
        long width = gradient.getShape().get(2);
        int p = positions;
        NDManager owner = gradient.getManager();
        try (NDManager scope = owner.newSubManager()) {
            scope.tempAttachAll(gradient);
            NDArray perHead = gradient.reshape(lanes * p, width).matMul(outputAdjoint)
                    .reshape(lanes, p, heads, headDim).transpose(2, 1, 0, 3).reshape(heads, p, lanes * headDim);
            int keysPerBlock = (int) Math.max(1, Math.min(p, blockFloats / ((long) heads * p)));
            NDArray byKey = byKeyBlocks(scope, perHead, p, keysPerBlock, false); // [H, P (key), B·dh]
            NDArray result = byKey.reshape(heads, p, lanes, headDim).transpose(2, 0, 1, 3)
                    .reshape(lanes, heads, (long) p * headDim);
            result.attach(owner);
            return result;
        }
    }

    /**
     * {@code Σ_q P_h[q, k] · perHead[h, q]} for every key {@code k}, in blocks of keys (each block's probabilities for
     * the queries that see it, then its rows of the result): {@code [H, P (key), columns]}, or with
     * {@code sumGroups} each group of query heads summed onto its key/value head, {@code [KV, P, columns]}.
     *
     * @param perHead {@code [H, P (query), columns]}, owned by {@code scope}'s tree
     */
    private NDArray byKeyBlocks(NDManager scope, NDArray perHead, int p, int keysPerBlock, boolean sumGroups) {
        long columns = perHead.getShape().get(2);
        NDList parts = new NDList();
        for (int first = 0; first < p; first += keysPerBlock) {
            int count = Math.min(keysPerBlock, p - first);
            try (NDManager block = scope.newSubManager()) {
                NDArray probabilities = pattern.columns(block, first, count, p); // [H, P − first, count]
                NDArray later = perHead.get(new NDIndex(":, {}:, :", first));    // [H, P − first, columns]
                later.attach(block);
                NDArray part = probabilities.transpose(0, 2, 1).matMul(later);   // [H, count, columns]
                if (sumGroups) {
                    part = part.reshape(kvHeads, heads / kvHeads, count, columns).sum(new int[] {1});
                }
                part.attach(scope);
                parts.add(part);
            }
        }
        return parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 1);
    }

    /**
     * {@code [KV, P, G·P]}: entry {@code [kv, k, g·P + q]} is the probability of query {@code q} of head
     * {@code kv·G + g} at key {@code k}.
     */
    private NDArray keysByStackedQueries(NDManager manager, int p) {
        NDArray rows = pattern.rows(manager, 0, p, p); // [H, P, P]
        return rows.reshape(kvHeads, (long) (heads / kvHeads) * p, p).transpose(0, 2, 1);
    }
}

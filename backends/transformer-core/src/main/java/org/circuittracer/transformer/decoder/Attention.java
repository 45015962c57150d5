package org.circuittracer.transformer.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Objects;

/**
 * One self-attention layer, split into the steps a hook or a cache needs to reach: project queries, keys and values;
 * turn queries and keys into a pattern (the probabilities, a hook site); mix values with the pattern; project out.
 * Positions are explicit ({@code firstPosition}) so that incremental decoding can pass only new queries.
 *
 * <p>Results belong to the manager of the array passed in.
 *
 * @param weights  the projections
 * @param settings heads, scale, soft-cap, window, rotation
 */
public record Attention(AttentionWeights weights, AttentionSettings settings) {

    public Attention {
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(settings, "settings");
    }

    /**
     * Queries of the normalised input {@code u [T, d]}: {@code [H, T, h]}, normed and rotated.
     *
     * @param rotation tables for the positions of {@code u}, or {@code null} without rotary embedding
     */
    public NDArray queries(NDArray u, RotaryEmbedding.Tables rotation) {
        NDArray q = splitHeads(weights.query().apply(u), settings.heads());
        if (weights.queryNorm().isPresent()) {
            q = weights.queryNorm().get().apply(q);
        }
        return rotate(q, rotation);
    }

    /** Keys of {@code u [T, d]}: {@code [KV, T, h]}, normed and rotated. */
    public NDArray keys(NDArray u, RotaryEmbedding.Tables rotation) {
        NDArray k = splitHeads(weights.key().apply(u), settings.keyValueHeads());
        if (weights.keyNorm().isPresent()) {
            k = weights.keyNorm().get().apply(k);
        }
        return rotate(k, rotation);
    }

    /** Values of {@code u [T, d]}: {@code [KV, T, h]}. */
    public NDArray values(NDArray u) {
        return splitHeads(weights.value().apply(u), settings.keyValueHeads());
    }

    /**
     * Attention probabilities, computed in float32.
     *
     * @param queries {@code [H, Tq, h]}
     * @param keys    {@code [KV, Tk, h]}
     * @param mask    {@code [Tq, Tk]} additive mask from {@link #maskBias}
     * @return {@code [H, Tq, Tk]}
     */
    public NDArray pattern(NDArray queries, NDArray keys, NDArray mask) {
        return logits(queries, keys).add(mask).softmax(-1);
    }

    /**
     * The pattern's logits before the mask and the softmax: scaled, soft-capped, float32 (also what recomputed
     * patterns of long prompts start from, so both stay the same computation).
     *
     * @param queries {@code [H, Tq, h]}
     * @param keys    {@code [KV, Tk, h]}
     * @return {@code [H, Tq, Tk]}
     */
    public NDArray logits(NDArray queries, NDArray keys) {
        int kv = settings.keyValueHeads();
        Shape q = queries.getShape();
        Shape k = keys.getShape();
        // [KV, G, Tq, h] @ [KV, 1, h, Tk]: each key/value head serves its group of query heads without copies
        NDArray grouped = queries.reshape(kv, settings.groupSize(), q.get(1), q.get(2));
        NDArray keysT = keys.reshape(kv, 1, k.get(1), k.get(2)).transpose(0, 1, 3, 2);
        NDArray logits = grouped.matMul(keysT).reshape(settings.heads(), q.get(1), k.get(1))
                .toType(DataType.FLOAT32, false).mul(settings.scale());
        if (settings.logitSoftcap() > 0) {
            logits = logits.div(settings.logitSoftcap()).tanh().mul(settings.logitSoftcap());
        }
        return logits;
    }

    /**
     * Mixes values with a pattern.
     *
     * @param pattern {@code [H, Tq, Tk]}
     * @param values  {@code [KV, Tk, h]}
     * @return {@code [Tq, H·h]}, the heads' outputs side by side
     */
    public NDArray mix(NDArray pattern, NDArray values) {
        int kv = settings.keyValueHeads();
        Shape p = pattern.getShape();
        Shape v = values.getShape();
        NDArray grouped = pattern.toType(values.getDataType(), false)
                .reshape(kv, settings.groupSize(), p.get(1), p.get(2));
        NDArray mixed = grouped.matMul(values.reshape(kv, 1, v.get(1), v.get(2))); // [KV, G, Tq, h]
        return mixed.reshape(settings.heads(), p.get(1), v.get(2)).transpose(1, 0, 2)
                .reshape(p.get(1), (long) settings.heads() * v.get(2));
    }

    /** The output projection: {@code [Tq, H·h]} to {@code [Tq, d]}. */
    public NDArray output(NDArray mixed) {
        return weights.output().apply(mixed);
    }

    /**
     * The additive causal mask: 0 where query {@code firstQuery + i} may see key {@code j}, −∞ elsewhere.
     *
     * @param slidingWindow as {@link AttentionSettings#slidingWindow()}
     * @return {@code [queries, keys]} float32, in {@code manager}
     */
    public static NDArray maskBias(NDManager manager, int firstQuery, int queries, int keys, int slidingWindow) {
        float[] bias = new float[queries * keys];
        for (int i = 0; i < queries; i++) {
            int query = firstQuery + i;
            int firstVisible = slidingWindow > 0 ? Math.max(0, query - slidingWindow + 1) : 0;
            Arrays.fill(bias, i * keys, i * keys + keys, Float.NEGATIVE_INFINITY);
            Arrays.fill(bias, i * keys + firstVisible, i * keys + Math.min(query + 1, keys), 0f);
        }
        return manager.create(bias, new Shape(queries, keys));
    }

    private NDArray splitHeads(NDArray projected, int heads) {
        Shape s = projected.getShape(); // [T, heads·h]
        return projected.reshape(s.get(0), heads, settings.headWidth()).transpose(1, 0, 2);
    }

    private static NDArray rotate(NDArray x, RotaryEmbedding.Tables rotation) {
        return rotation == null ? x : RotaryEmbedding.apply(x, rotation);
    }
}

package org.circuittracer.transformer.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.Objects;

/**
 * The keys and values of every layer for the positions computed so far, so that a generation step computes one new
 * position only. Keys are stored after their norm (Qwen-3) and rotation, values as projected, both per key/value head
 * ({@code [KV, positions, h]}, grouped-query attention shares them between query heads) in the model's compute type.
 *
 * <p>Each layer's buffer is filled in place: a step writes one row per layer and reads a view of the rows so far, so a
 * step's cost does not include copying the cache. Buffers start with room for the first pass plus
 * {@value #HEADROOM} positions and double when full (up to {@code capacity}), so a generation that stops early never
 * holds memory for the longest one it might have been. Every position is kept, also on sliding-window layers (Gemma-2's local layers): their mask hides keys older
 * than the window, and a pattern over the whole key axis is what {@code attn.hook_pattern} shows.
 *
 * <p>The buffers belong to the manager given to the constructor (scoped to one generation); the views handed to a pass
 * belong to that pass's manager. Not thread-safe: one generation owns one cache.
 */
public final class KeyValueCache {

    /** Positions allocated beyond the first pass's. */
    static final int HEADROOM = 32;

    private final NDManager manager;
    private final int capacity;
    private final NDArray[] keys;
    private final NDArray[] values;
    private final int[] allocated;
    private int length;

    /**
     * @param manager  owns the buffers; closing it frees the cache
     * @param layers   number of blocks
     * @param capacity the most positions the cache will hold
     */
    public KeyValueCache(NDManager manager, int layers, int capacity) {
        this.manager = Objects.requireNonNull(manager, "manager");
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        this.capacity = capacity;
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        this.allocated = new int[layers];
    }

    /** How many positions are cached (the absolute position of the next pass's first row). */
    public int length() {
        return length;
    }

    /** The most positions the cache can hold. */
    public int capacity() {
        return capacity;
    }

    /**
     * Stores the keys and values of the positions {@link #length()} … {@code length() + n − 1} of {@code layer} and
     * returns the keys and values of every position so far.
     *
     * @param newKeys   {@code [KV, n, h]}
     * @param newValues {@code [KV, n, h]}
     * @return keys and values {@code [KV, length() + n, h]}, views owned by {@code newKeys}' manager
     */
    Entries append(int layer, NDArray newKeys, NDArray newValues) {
        Shape shape = newKeys.getShape();
        long count = shape.get(1);
        long end = length + count;
        if (end > capacity) {
            throw new IllegalStateException("key/value cache full: " + end + " positions > capacity " + capacity);
        }
        if (end > allocated[layer]) {
            int size = (int) Math.min(capacity, Math.max(end + HEADROOM, 2L * allocated[layer]));
            keys[layer] = grown(keys[layer], size, newKeys);
            values[layer] = grown(values[layer], size, newValues);
            allocated[layer] = size;
        }
        NDIndex rows = new NDIndex(":, " + length + ":" + end + ", :");
        keys[layer].set(rows, newKeys);
        values[layer].set(rows, newValues);
        NDIndex upToNow = new NDIndex(":, :" + end + ", :");
        return new Entries(view(keys[layer], upToNow, newKeys), view(values[layer], upToNow, newKeys));
    }

    /** Marks {@code count} more positions as cached, once every layer has appended them. */
    void advance(int count) {
        length += count;
    }

    /** A buffer of {@code size} positions holding the cached rows of {@code old} (closed), if any. */
    private NDArray grown(NDArray old, int size, NDArray like) {
        Shape shape = like.getShape();
        NDArray buffer = manager.zeros(new Shape(shape.get(0), size, shape.get(2)), like.getDataType());
        if (old != null) {
            if (length > 0) {
                NDIndex cached = new NDIndex(":, :" + length + ", :");
                NDArray rows = old.get(cached);
                buffer.set(cached, rows);
                rows.close();
            }
            old.close();
        }
        return buffer;
    }

    private static NDArray view(NDArray buffer, NDIndex index, NDArray owner) {
        NDArray view = buffer.get(index);
        view.attach(owner.getManager()); // freed with the pass, not kept until the generation ends
        return view;
    }

    /**
     * Keys and values of every cached position of one layer.
     *
     * @param keys   {@code [KV, T, h]}
     * @param values {@code [KV, T, h]}
     */
    record Entries(NDArray keys, NDArray values) {
    }
}

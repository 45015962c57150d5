package org.circuittracer.dashboards;

import java.util.Arrays;

/**
 * The activations of one feature with the smallest {@link Priorities priorities}, at most {@code capacity}: all of them
 * while the feature has fired at most {@code capacity} times, a uniform deterministic sample beyond. A max-heap on
 * (priority, sequence, position) in parallel primitive arrays that grow as needed. Not thread-safe.
 */
final class ValueSample {

    private final int capacity;
    private long[] priorities = new long[4];
    private long[] sequences = new long[4];
    private int[] positions = new int[4];
    private float[] values = new float[4];
    private int size;

    ValueSample(int capacity) {
        this.capacity = capacity;
    }

    void offer(long priority, long sequence, int position, float value) {
        if (size < capacity) {
            if (size == priorities.length) {
                int n = Math.min(capacity, size * 2);
                priorities = Arrays.copyOf(priorities, n);
                sequences = Arrays.copyOf(sequences, n);
                positions = Arrays.copyOf(positions, n);
                values = Arrays.copyOf(values, n);
            }
            set(size, priority, sequence, position, value);
            siftUp(size++);
        } else if (Priorities.compare(priority, sequence, position, priorities[0], sequences[0], positions[0]) < 0) {
            set(0, priority, sequence, position, value);
            siftDown(0);
        }
    }

    int size() {
        return size;
    }

    int capacity() {
        return capacity;
    }

    /** One kept activation. */
    interface Entry {
        void accept(long priority, long sequence, int position, float value);
    }

    /** Every kept activation in key order (priority, sequence, position), so that what is written is canonical. */
    void forEachSorted(Entry entry) {
        Integer[] order = new Integer[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Priorities.compare(priorities[a], sequences[a], positions[a], priorities[b],
                sequences[b], positions[b]));
        for (int i : order) {
            entry.accept(priorities[i], sequences[i], positions[i], values[i]);
        }
    }

    /** Offers every activation {@code other} keeps: the smallest keys of the union, as one pass would keep. */
    void offerAll(ValueSample other) {
        for (int i = 0; i < other.size; i++) {
            offer(other.priorities[i], other.sequences[i], other.positions[i], other.values[i]);
        }
    }

    /** The kept values, ascending. */
    float[] sortedValues() {
        float[] out = Arrays.copyOf(values, size);
        Arrays.sort(out);
        return out;
    }

    long retainedBytes() {
        return 48 + 4 * 16 + (long) priorities.length * (8 + 8 + 4 + 4);
    }

    private void set(int i, long priority, long sequence, int position, float value) {
        priorities[i] = priority;
        sequences[i] = sequence;
        positions[i] = position;
        values[i] = value;
    }

    private boolean greater(int i, int j) {
        return Priorities.compare(priorities[i], sequences[i], positions[i], priorities[j], sequences[j],
                positions[j]) > 0;
    }

    private void siftUp(int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (!greater(i, parent)) {
                return;
            }
            swap(i, parent);
            i = parent;
        }
    }

    private void siftDown(int i) {
        while (true) {
            int l = 2 * i + 1;
            int r = l + 1;
            int m = i;
            if (l < size && greater(l, m)) {
                m = l;
            }
            if (r < size && greater(r, m)) {
                m = r;
            }
            if (m == i) {
                return;
            }
            swap(i, m);
            i = m;
        }
    }

    private void swap(int i, int j) {
        long p = priorities[i];
        priorities[i] = priorities[j];
        priorities[j] = p;
        long s = sequences[i];
        sequences[i] = sequences[j];
        sequences[j] = s;
        int q = positions[i];
        positions[i] = positions[j];
        positions[j] = q;
        float v = values[i];
        values[i] = values[j];
        values[j] = v;
    }
}

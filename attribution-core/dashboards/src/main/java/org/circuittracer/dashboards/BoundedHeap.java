package org.circuittracer.dashboards;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * At most {@code capacity} elements, the best under {@code order}; the root is the worst kept element, so a newcomer
 * is compared with {@link #worst()} before it is built. Not thread-safe.
 */
final class BoundedHeap<T> {

    private final int capacity;
    private final Comparator<T> order;
    private final List<T> heap = new ArrayList<>();

    /** @param order best first */
    BoundedHeap(int capacity, Comparator<T> order) {
        this.capacity = capacity;
        this.order = order;
    }

    boolean full() {
        return heap.size() >= capacity;
    }

    int size() {
        return heap.size();
    }

    /** The element the next {@link #add} evicts when full. */
    T worst() {
        return heap.get(0);
    }

    /** Adds {@code element}, evicting the worst when full; the caller has checked that it beats {@link #worst()}. */
    void add(T element) {
        if (full()) {
            heap.set(0, element);
            siftDown(0);
        } else {
            heap.add(element);
            siftUp(heap.size() - 1);
        }
    }

    /**
     * Adds {@code element} when it beats the worst kept one (or there is room). Keeping the best {@code capacity} of a
     * union this way gives the same set whatever the order of arrival, as the order is total.
     */
    void offer(T element) {
        if (!full() || order.compare(element, worst()) < 0) {
            add(element);
        }
    }

    int capacity() {
        return capacity;
    }

    /** The kept elements, best first. */
    List<T> sorted() {
        List<T> out = new ArrayList<>(heap);
        out.sort(order);
        return out;
    }

    List<T> elements() {
        return heap;
    }

    private boolean worse(int i, int j) {
        return order.compare(heap.get(i), heap.get(j)) > 0;
    }

    private void siftUp(int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (!worse(i, parent)) {
                return;
            }
            swap(i, parent);
            i = parent;
        }
    }

    private void siftDown(int i) {
        int n = heap.size();
        while (true) {
            int l = 2 * i + 1;
            int r = l + 1;
            int w = i;
            if (l < n && worse(l, w)) {
                w = l;
            }
            if (r < n && worse(r, w)) {
                w = r;
            }
            if (w == i) {
                return;
            }
            swap(i, w);
            i = w;
        }
    }

    private void swap(int i, int j) {
        T t = heap.get(i);
        heap.set(i, heap.get(j));
        heap.set(j, t);
    }
}

package org.circuittracer.transformer.linear;

import ai.djl.ndarray.NDArray;

/**
 * Slices of long-lived arrays (the recorded clean state) taken during one VJP. DJL puts a slice in the manager of
 * the array sliced; left there, every VJP batch would leave its slices behind until the linearised model closes.
 */
final class Scoped {

    private Scoped() {
    }

    /** {@code source.get(index)}, owned by {@code owner}'s manager (a view of the same storage). */
    static NDArray slice(NDArray source, String index, NDArray owner) {
        NDArray slice = source.get(index);
        slice.attach(owner.getManager());
        return slice;
    }
}

package org.circuittracer.transformer.linear;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.circuittracer.spi.model.SourceWrites;

/**
 * The sources' forward sweep of the last {@link HeadLoadingSweep} call, kept for the next call with the same sources
 * (the same object) and position bound: a graph's head loadings are computed in batches of targets against one set
 * of sources, and without it every batch sweeps the sources through every layer again. Held by a linearised model and
 * released with it; sweeps above {@link #BUDGET_FLOATS} are not kept.
 */
public final class SourceSweepCache implements AutoCloseable {

    /** Upper bound on the floats kept: {@code L × S × P × (d + H·dh)} (512 MiB). */
    static final long BUDGET_FLOATS = 1L << 27;

    /** Per layer {@code m}: the sources' change {@code x_s(m)} {@code [S, P, d]} and its per-head values. */
    public record States(List<NDArray> changes, List<NDArray> values) {

        NDArray change(int layer) {
            return changes.get(layer);
        }

        NDArray values(int layer) {
            return values.get(layer);
        }
    }

    private final NDManager parent;
    private SourceWrites sources;
    private int positions;
    private States states;
    private NDManager owner;

    /** @param parent the manager the kept arrays live under (the linearised model's) */
    public SourceSweepCache(NDManager parent) {
        this.parent = Objects.requireNonNull(parent, "parent");
    }

    /**
     * The kept states when they were made for these sources and positions; else made by {@code sweep} (into a manager
     * of this cache) and kept; null when they would exceed the budget (the caller sweeps as it goes).
     */
    synchronized States states(FrozenTransformer model, SourceWrites sources, int positions,
                               Function<NDManager, States> sweep) {
        if (states != null && this.sources == sources && this.positions == positions) {
            return states;
        }
        int layers = model.layers().size();
        if (layers == 0) {
            return null;
        }
        FrozenAttention attention = model.layers().get(0).attention();
        long perLayer = (long) sources.sources() * positions
                * (model.width() + (long) attention.heads() * attention.headDim());
        if (perLayer * layers > BUDGET_FLOATS) {
            return null;
        }
        release();
        owner = parent.newSubManager();
        states = sweep.apply(owner);
        this.sources = sources;
        this.positions = positions;
        return states;
    }

    private void release() {
        if (owner != null) {
            owner.close();
        }
        owner = null;
        states = null;
        sources = null;
    }

    @Override
    public synchronized void close() {
        release();
    }
}

package org.circuittracer.transformer.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Objects;
import java.util.Optional;

/**
 * An affine map {@code y = x·W + b}, with {@code W} held as an array or, for large widened checkpoints, a
 * {@link DeferredWeight} made on each use (the same values, so the same results).
 */
public final class Linear {

    private final NDArray weight;
    private final DeferredWeight deferred;
    private final boolean transposeDeferred;
    private final Optional<NDArray> bias;
    private final NDManager owner;
    private NDArray materialized; // a deferred weight made whole by weight()

    /**
     * @param weight {@code [in, out]}; for Hugging Face {@code nn.Linear} weights (stored {@code [out, in]}) a
     *               transposed view, for GPT-2's {@code Conv1D} the stored tensor itself
     * @param bias   {@code [out]}, if the layer has one
     */
    public Linear(NDArray weight, Optional<NDArray> bias) {
        this.weight = Objects.requireNonNull(weight, "weight");
        this.bias = Objects.requireNonNull(bias, "bias");
        this.deferred = null;
        this.transposeDeferred = false;
        this.owner = null;
    }

    private Linear(DeferredWeight deferred, boolean transposed, Optional<NDArray> bias, NDManager owner) {
        this.weight = null;
        this.deferred = Objects.requireNonNull(deferred, "deferred");
        this.transposeDeferred = transposed;
        this.bias = Objects.requireNonNull(bias, "bias");
        this.owner = Objects.requireNonNull(owner, "owner");
    }

    /**
     * A linear map whose weight is made on each use.
     *
     * @param stored     the stored tensor: {@code [out, in]} when {@code transposed} (Hugging Face {@code nn.Linear}),
     *                   else {@code [in, out]}
     * @param owner      the model's manager: {@link #weight()} materialises the weight there, once
     */
    public static Linear deferred(DeferredWeight stored, boolean transposed, Optional<NDArray> bias,
                                  NDManager owner) {
        return new Linear(stored, transposed, bias, owner);
    }

    /** {@code x [..., in]} to {@code [..., out]}; the result belongs to {@code x}'s manager. */
    public NDArray apply(NDArray x) {
        NDArray y;
        if (deferred == null) {
            y = x.matMul(weight);
        } else {
            // the widened weight lives only for this product: the product is the caller's, the weight is dropped
            try (NDManager scope = x.getManager().newSubManager();
                 DeferredWeight.Lease lease = deferred.lease(scope)) {
                NDArray w = lease.array();
                y = x.matMul(transposeDeferred ? w.transpose() : w);
                w.close(); // before the lease hands its buffer to the next weight
            }
        }
        return bias.isPresent() ? y.add(bias.get()) : y;
    }

    /**
     * {@code [in, out]}. For a deferred weight this makes a float32 copy in the model's manager and keeps it (for
     * callers that need the whole matrix, e.g. an exporter); the forward pass never calls it.
     */
    public synchronized NDArray weight() {
        if (weight != null) {
            return weight;
        }
        if (materialized == null) {
            try (DeferredWeight.Lease lease = deferred.lease(owner)) {
                NDArray copy = lease.array().duplicate(); // own storage: the lease's buffer is reused
                lease.array().close();
                materialized = transposeDeferred ? copy.transpose() : copy;
            }
        }
        return materialized;
    }

    /** {@code [out]}, if the layer has one. */
    public Optional<NDArray> bias() {
        return bias;
    }

    /** Whether the weight is made on each use rather than held. */
    public boolean isDeferred() {
        return deferred != null;
    }

    /** Width of the input. */
    public long inputWidth() {
        return weight != null ? weight.getShape().get(0) : deferred.shape()[transposeDeferred ? 1 : 0];
    }

    /** Width of the output. */
    public long outputWidth() {
        return weight != null ? weight.getShape().get(1) : deferred.shape()[transposeDeferred ? 0 : 1];
    }
}

package org.circuittracer.spi.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Map;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.site.HookSite;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A model linearised around one prompt: attention patterns and norm scales frozen at their clean values, MLPs cut
 * except for skip maps (docs/reference/algorithm.md §2.4-2.5). It is linear from {token embeddings, write-site additions} to
 * {read-site values, {@code unembed.hook_in}}; {@link #vjp} is its exact adjoint. Thread-safe: several VJPs may
 * run concurrently. Closing releases the captured state.
 */
@ConsumerType
public interface LinearizedModel extends AutoCloseable {

    /** The prompt the model was linearised around. */
    TokenSequence tokens();

    /** The specification it was built with. */
    LinearizationSpec spec();

    /**
     * Values recorded by the clean forward pass (owned by this object; valid until {@link #close()}):
     * the read and write sites of every layer, {@code hook_embed}, {@code unembed.hook_in}, {@code hook_logits},
     * and every frozen pattern and scale.
     */
    Map<HookSite, NDArray> clean();

    /**
     * The vector-Jacobian product for a batch of seeds. Exact (up to float rounding): for every write-site vector
     * {@code v} at (layer ℓ, position p) the seeded scalar changes by {@code ⟨gradient[lane, p], v⟩} when {@code v}
     * is added there in the frozen forward pass.
     *
     * @param manager owns the returned arrays
     */
    VjpResult vjp(NDManager manager, VjpSeeds seeds);

    /**
     * Splits edges over attention heads (capability {@link BackendCapability#HEAD_LOADINGS}): for each pair
     * {@code (edgeTargets[e], edgeSources[e])}, how much of the direct effect of the source on the target's lane goes
     * through each head of each attention layer, and how much bypasses that layer ({@link HeadLoadings}). Exact in
     * the linearised model; a constant number of sweeps for the whole batch, not one per head or per edge.
     *
     * @param manager     owns temporaries (released before this returns)
     * @param targets     the targets, one lane each, as for {@link #vjp}
     * @param sources     what the sources add to the residual stream
     * @param edgeTargets {@code [E]} lanes of {@code targets}
     * @param edgeSources {@code [E]} sources of {@code sources}
     * @throws CircuitTracerException MISSING_CAPABILITY when the backend cannot split edges; INVALID_ARGUMENT for
     *                                lanes, sources, sites or positions outside the model, the prompt or the batch
     */
    default HeadLoadings headLoadings(NDManager manager, VjpSeeds targets, SourceWrites sources, int[] edgeTargets,
                                      int[] edgeSources) {
        throw new CircuitTracerException(StandardErrorCode.MISSING_CAPABILITY, "This backend's linearised model does "
                + "not support " + BackendCapability.HEAD_LOADINGS.name() + " ("
                + BackendCapability.HEAD_LOADINGS.meaning() + "). Choose a backend that declares it (see "
                + "'circuit-tracer plugins').");
    }

    /**
     * Splits attention scores over sources (capability {@link BackendCapability#QK_ATTRIBUTION}): for each query, the
     * pre-softmax score of its head, query and key positions as pairwise terms between the sources' parts of the
     * query and of the key, marginal terms against the rest, and a constant ({@link QkAttribution}). Norm scales are
     * frozen at their clean values; exact in that model.
     *
     * @param manager owns temporaries (released before this returns)
     * @param sources what the sources add to the residual stream
     * @param queries the scores to explain
     * @return one result per query, in order
     * @throws CircuitTracerException MISSING_CAPABILITY when the backend cannot split scores; INVALID_ARGUMENT for
     *                                layers, heads, positions, sites or widths outside the model or the prompt
     */
    default java.util.List<QkAttribution> qkAttribution(NDManager manager, SourceWrites sources,
                                                        java.util.List<QkQuery> queries) {
        throw new CircuitTracerException(StandardErrorCode.MISSING_CAPABILITY, "This backend's linearised model does "
                + "not support " + BackendCapability.QK_ATTRIBUTION.name() + " ("
                + BackendCapability.QK_ATTRIBUTION.meaning() + "). Choose a backend that declares it (see "
                + "'circuit-tracer plugins').");
    }

    @Override
    void close();
}

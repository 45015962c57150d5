package org.circuittracer.spi.model;

import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.Set;
import org.circuittracer.spi.site.HookSite;

/**
 * An opened decoder-only transformer. Sessions over it are independent: forward passes, linearisations and
 * generations may run concurrently from several threads. Every returned tensor belongs to the {@link NDManager}
 * passed in; the model's own weights belong to the model and are released by {@link #close()}.
 */
public interface TransformerModel extends AutoCloseable {

    /** The provider name of the backend that opened this model, e.g. {@code djl}. */
    String backendName();

    ModelConfig config();

    Tokenizer tokenizer();

    /** What this model supports; a subset of its provider's declaration. */
    Set<BackendCapability> capabilities();

    /** Every site this model exposes, in forward order (e.g. no {@code ln1_post} sites for Llama). */
    List<HookSite> sites();

    /**
     * Runs the model on {@code tokens} applying {@code hooks}.
     *
     * @param manager owns the returned arrays
     * @throws org.circuittracer.spi.CircuitTracerException INVALID_ARGUMENT for token ids outside the vocabulary,
     *         sequences longer than {@link ModelConfig#maxPositions()}, unknown sites or misshaped hook values;
     *         MISSING_CAPABILITY for a hook kind the backend lacks
     */
    ForwardResult forward(NDManager manager, TokenSequence tokens, List<Hook> hooks);

    /**
     * Runs the clean forward pass on {@code tokens}, records every value the frozen model needs and returns the
     * linearised model. Needs {@link BackendCapability#VJP}.
     *
     * @param manager owns the linearised model's recorded state (it must outlive the returned object)
     */
    LinearizedModel linearize(NDManager manager, TokenSequence tokens, LinearizationSpec spec);

    /** Generates with a key/value cache, applying hooks at every step. Needs {@link BackendCapability#KV_CACHE}. */
    GenerationResult generate(NDManager manager, GenerationRequest request);

    @Override
    void close();
}

package org.circuittracer.spi.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import org.circuittracer.spi.Capability;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.site.HookSite;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * An opened decoder-only transformer. Sessions over it are independent: forward passes, linearisations and
 * generations may run concurrently from several threads. Every returned tensor belongs to the {@link NDManager}
 * passed in; the model's own weights belong to the model and are released by {@link #close()}.
 */
@ConsumerType
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

    /**
     * Stop tokens and sampling the model suggests (its {@code generation_config.json}); by default the tokenizer's
     * end-of-sequence token and greedy decoding.
     *
     * @since 1.1
     */
    default GenerationDefaults generationDefaults() {
        OptionalInt eos = tokenizer().eosTokenId();
        return new GenerationDefaults(eos.isPresent() ? Set.of(eos.getAsInt()) : Set.of(), Sampling.greedy());
    }

    /**
     * The unembedding vectors of some tokens: {@code [n, d]} float32, row {@code i} the column {@code U[:, tokenIds[i]]}
     * of the unembedding matrix, so that token {@code t}'s logit before any final soft-cap is {@code ⟨z, U[:, t]⟩}
     * (plus the unembedding's bias, if the model has one), {@code z} being the value at {@code unembed.hook_in}.
     * Logit attribution targets are built from these (docs/reference/algorithm.md §3.7). Needs {@link BackendCapability#UNEMBEDDING}.
     *
     * @param manager  owns the returned array
     * @param tokenIds ids in {@code [0, V)}; repeats allowed
     * @throws CircuitTracerException MISSING_CAPABILITY without UNEMBEDDING; INVALID_ARGUMENT for an id outside
     *         {@code [0, V)}
     * @since 1.1
     */
    default NDArray unembeddingVectors(NDManager manager, int[] tokenIds) {
        throw unembeddingUnavailable();
    }

    /**
     * The mean of all {@code V} unembedding vectors, {@code [d]} float32 (what logit targets are demeaned by).
     * Needs {@link BackendCapability#UNEMBEDDING}.
     *
     * @param manager owns the returned array
     * @throws CircuitTracerException MISSING_CAPABILITY without UNEMBEDDING
     * @since 1.1
     */
    default NDArray meanUnembeddingVector(NDManager manager) {
        throw unembeddingUnavailable();
    }

    @Override
    void close();

    private CircuitTracerException unembeddingUnavailable() {
        Capability.require("backend", backendName(), capabilities(), BackendCapability.UNEMBEDDING,
                "logit attribution targets");
        return new CircuitTracerException(StandardErrorCode.PLUGIN_FAILURE, "Backend '" + backendName()
                + "' declares UNEMBEDDING but does not implement unembeddingVectors/meanUnembeddingVector; report this "
                + "to the backend's authors.");
    }
}

package org.circuittracer.transformer;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.circuittracer.spi.Capability;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.GenerationRequest;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.Tokenizer;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.transformer.generation.GenerationLoop;

/**
 * What every backend's model holds besides its engine: the backend's name, the configuration, the sites, the
 * capabilities, the tokenizer of the model directory (opened on first use), the closed state and the model's name in messages. A
 * backend implements the passes and {@link #release()}.
 */
public abstract class AbstractTransformerModel implements TransformerModel {

    private final String backend;
    private final ModelConfig config;
    private final List<HookSite> sites;
    private final Set<BackendCapability> capabilities;
    private final LazyTokenizer tokenizer;
    private final String describe;
    private final Map<Integer, String> refusedTokens;
    private volatile boolean closed;

    /**
     * @param directory the model directory (its {@code tokenizer.json})
     * @param engine    said after the layers in messages ({@code "ONNX"}), or empty
     */
    protected AbstractTransformerModel(String backend, Path directory, ModelConfig config, List<HookSite> sites,
                                       Set<BackendCapability> capabilities, String engine) {
        this(backend, directory, config, sites, capabilities, engine, Map.of());
    }

    /**
     * @param refusedTokens token ids a prompt must not hold, with what each is and what to do instead
     *                      ({@link org.circuittracer.transformer.architecture.ArchitectureConfig#refusedTokens})
     */
    protected AbstractTransformerModel(String backend, Path directory, ModelConfig config, List<HookSite> sites,
                                       Set<BackendCapability> capabilities, String engine,
                                       Map<Integer, String> refusedTokens) {
        this.refusedTokens = Map.copyOf(refusedTokens);
        this.backend = backend;
        this.config = config;
        this.sites = List.copyOf(sites);
        this.capabilities = Set.copyOf(capabilities);
        this.tokenizer = new LazyTokenizer(directory);
        this.describe = config.architecture() + " '" + config.modelName() + "' (" + config.layers() + " layers"
                + (engine.isEmpty() ? "" : ", " + engine) + ")";
    }

    @Override
    public final String backendName() {
        return backend;
    }

    @Override
    public final ModelConfig config() {
        return config;
    }

    @Override
    public final Tokenizer tokenizer() {
        requireOpen();
        return tokenizer.get();
    }

    @Override
    public final List<HookSite> sites() {
        return sites;
    }

    @Override
    public final Set<BackendCapability> capabilities() {
        return capabilities;
    }

    /** Releases the tokenizer and, once, what {@link #release()} holds. Idempotent. */
    @Override
    public final synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        tokenizer.close();
        release();
    }

    /** Releases the engine's state (weights, sessions); called once, by {@link #close()}. */
    protected abstract void release();

    /** The model as messages name it, e.g. {@code LlamaForCausalLM 'llama' (4 layers)}. */
    protected final String describe() {
        return describe;
    }

    /** @throws IllegalStateException once the model is closed */
    protected final void requireOpen() {
        if (closed) {
            throw new IllegalStateException("The model " + describe + " is closed.");
        }
    }

    /**
     * The checks before a forward pass: arguments present, model open, tokens in the vocabulary and within the
     * positions.
     */
    protected final void checkForward(NDManager manager, TokenSequence tokens, List<Hook> hooks) {
        Objects.requireNonNull(manager, "manager");
        Objects.requireNonNull(hooks, "hooks");
        requireOpen();
        ModelLimits.requireFits(tokens, config, describe);
        ModelLimits.requireNoRefusedTokens(tokens, refusedTokens, describe);
    }

    /** The checks before {@code linearize}: the VJP capability, arguments present, model open. */
    protected final void checkLinearize(NDManager manager, LinearizationSpec spec) {
        Capability.require("backend", backend, capabilities, BackendCapability.VJP, "attribution");
        Objects.requireNonNull(manager, "manager");
        Objects.requireNonNull(spec, "spec");
        requireOpen();
    }

    /** The checks before {@code generate}: the key/value cache, arguments present, model open, the request's own. */
    protected final void checkGeneration(NDManager manager, GenerationRequest request) {
        Capability.require("backend", backend, capabilities, BackendCapability.KV_CACHE, "generation");
        Objects.requireNonNull(manager, "manager");
        Objects.requireNonNull(request, "request");
        requireOpen();
        GenerationLoop.validate(config, request, describe, capabilities);
        ModelLimits.requireNoRefusedTokens(request.prompt(), refusedTokens, describe);
    }
}

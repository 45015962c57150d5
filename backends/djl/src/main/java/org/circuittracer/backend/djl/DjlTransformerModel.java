package org.circuittracer.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.ForwardResult;
import org.circuittracer.spi.model.GenerationDefaults;
import org.circuittracer.spi.model.GenerationRequest;
import org.circuittracer.spi.model.GenerationResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.Precision;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.site.SiteKind;
import org.circuittracer.transformer.AbstractTransformerModel;
import org.circuittracer.transformer.ModelDirectory;
import org.circuittracer.transformer.ModelLimits;
import org.circuittracer.transformer.architecture.ArchitectureConfig;
import org.circuittracer.transformer.checkpoint.WeightReader;
import org.circuittracer.transformer.decoder.Decoder;
import org.circuittracer.transformer.decoder.DecoderForward;
import org.circuittracer.transformer.generation.GenerationConfig;
import org.circuittracer.transformer.hooks.HookPlan;
import org.circuittracer.transformer.hooks.SiteShapes;

/**
 * A model opened by the djl backend: a {@link Decoder} whose weights live in this model's own manager (memory-mapped
 * where the checkpoint is float32), run by {@link DecoderForward} with a {@link HookPlan}.
 *
 * <p>Forward passes and generations are independent and may run concurrently: each works in a sub-manager of the
 * caller's manager that is closed before it returns. Logits and captured values are float32 whatever the precision.
 * Generation ({@link DjlGeneration}) keeps a key/value cache and applies hooks at absolute positions on every step.
 */
final class DjlTransformerModel extends AbstractTransformerModel {

    private final Path directory;
    private final NDManager weights;
    private final Decoder decoder;

    private DjlTransformerModel(Path directory, NDManager weights, Decoder decoder,
                                Set<BackendCapability> capabilities, Map<Integer, String> refusedTokens) {
        super(DjlBackendProvider.NAME, directory, decoder.config(), decoder.sites(), capabilities, "", refusedTokens);
        this.directory = directory;
        this.weights = weights;
        this.decoder = decoder;
    }

    /** Loads the weights of {@code directory} as {@code config} describes them. */
    static DjlTransformerModel open(Path directory, ArchitectureConfig config, Precision precision,
                                    Set<BackendCapability> capabilities) {
        String name = ModelDirectory.name(directory);
        NDManager manager = PyTorchRuntime.newManager();
        try (WeightReader reader = WeightReader.open(directory, manager, precision,
                config.modelConfig(name).architecture())) {
            return new DjlTransformerModel(directory, manager, config.load(reader, name), capabilities,
                    config.refusedTokens());
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @Override
    public ForwardResult forward(NDManager manager, TokenSequence tokens, List<Hook> hooks) {
        checkForward(manager, tokens, hooks);
        ModelConfig config = decoder.config();
        try (NDManager scratch = manager.newSubManager()) {
            SiteShapes shapes = new SiteShapes(tokens.length(), config.modelWidth(), config.heads(),
                    config.vocabularySize());
            HookPlan plan = HookPlan.prepare(hooks, sites(), shapes, scratch, describe());
            NDArray logits = DecoderForward.run(decoder, scratch, tokens.ids(), plan);
            logits.attach(manager);
            plan.captured().values().forEach(value -> value.attach(manager));
            return new ForwardResult(logits, plan.captured());
        }
    }

    @Override
    public LinearizedModel linearize(NDManager manager, TokenSequence tokens, LinearizationSpec spec) {
        return linearize(manager, tokens, spec, DjlLinearization.PATTERN_BUDGET);
    }

    /**
     * {@link #linearize} keeping the recorded patterns only while {@code H·T² ≤ patternBudget} floats per layer
     * (tests pass a small budget to exercise the recomputed patterns on short prompts).
     */
    LinearizedModel linearize(NDManager manager, TokenSequence tokens, LinearizationSpec spec, long patternBudget) {
        checkLinearize(manager, spec);
        NDManager state = manager.newSubManager();
        try {
            boolean keepPatterns = DjlLinearization.keepsPatterns(decoder, tokens.length(), patternBudget);
            List<Hook> captures = DjlLinearization.recordedSites(decoder, spec, keepPatterns).stream()
                    .<Hook>map(Hook.Capture::new).toList();
            ForwardResult clean = forward(state, tokens, captures);
            List<Hook> inputs = decoder.sites().stream().filter(site -> site.kind() == SiteKind.RESID_PRE)
                    .<Hook>map(Hook.Capture::new).toList();
            return DjlLinearization.of(decoder, tokens, spec, state, clean.captured(), patternBudget,
                    () -> forward(state, tokens, inputs).captured());
        } catch (RuntimeException e) {
            state.close();
            throw e;
        }
    }

    @Override
    public GenerationDefaults generationDefaults() {
        return GenerationConfig.read(directory, tokenizer().eosTokenId(), decoder.config().vocabularySize());
    }

    @Override
    public NDArray unembeddingVectors(NDManager manager, int[] tokenIds) {
        Objects.requireNonNull(manager, "manager");
        requireOpen();
        ModelLimits.requireTokenIds(tokenIds, decoder.config().vocabularySize(), describe());
        try (NDManager scratch = manager.newSubManager()) {
            // unembed weight is [d, V]: token t's vector is column t
            NDArray columns = decoder.unembed().weight().transpose();
            columns.attach(scratch);
            NDArray rows = columns.get(scratch.create(tokenIds)).toType(DataType.FLOAT32, true);
            rows.attach(manager);
            return rows;
        }
    }

    @Override
    public NDArray meanUnembeddingVector(NDManager manager) {
        Objects.requireNonNull(manager, "manager");
        requireOpen();
        try (NDManager scratch = manager.newSubManager()) {
            NDArray weight = decoder.unembed().weight().toType(DataType.FLOAT32, true);
            weight.attach(scratch);
            NDArray mean = weight.mean(new int[] {1});
            mean.attach(manager);
            return mean;
        }
    }

    @Override
    public GenerationResult generate(NDManager manager, GenerationRequest request) {
        checkGeneration(manager, request);
        return DjlGeneration.run(decoder, sites(), describe(), manager, request);
    }

    /** Releases the weights (the tokenizer is the base class's). */
    @Override
    protected void release() {
        weights.close();
    }

    /** The decoder (weights and settings), for the linearised model and generation built on this model. */
    Decoder decoder() {
        return decoder;
    }
}

package org.circuittracer.backend.onnx;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.circuittracer.backend.onnx.graph.GraphSurgery;
import org.circuittracer.backend.onnx.graph.ModelInputs;
import org.circuittracer.backend.onnx.graph.OnnxModelFile;
import org.circuittracer.backend.onnx.graph.Sessions;
import org.circuittracer.backend.onnx.hooks.HookFeeds;
import org.circuittracer.backend.onnx.sitemap.ResolvedSites;
import org.circuittracer.spi.Capability;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.ForwardResult;
import org.circuittracer.spi.model.GenerationRequest;
import org.circuittracer.spi.model.GenerationResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.site.HookSite;
import org.circuittracer.transformer.AbstractTransformerModel;
import org.circuittracer.transformer.ModelLimits;
import org.circuittracer.transformer.generation.GenerationLoop;
import org.circuittracer.transformer.hooks.SiteShapes;

/**
 * A model opened by the onnx backend: ONNX Runtime sessions of the exported graph (plain, and rewritten per hook
 * signature), the sites its site map finds, and the weights the frozen model's adjoint needs. Logits and captured
 * values are float32 arrays of the caller's manager. Forward passes, linearisations and generations may run
 * concurrently.
 */
final class OnnxTransformerModel extends AbstractTransformerModel {

    private final OnnxModelFile file;
    private final ResolvedSites sites;
    private final ModelInputs inputs;
    private final Sessions sessions;
    private final Weights weights;
    private final java.util.Optional<OnnxModelConfig.QueryKeySettings> queryKeys;

    OnnxTransformerModel(Path directory, ModelConfig config, OnnxModelFile file, ResolvedSites sites,
                         ModelInputs inputs, Sessions sessions, java.util.Map<Integer, String> refusedTokens) {
        this(directory, config, file, sites, inputs, sessions, refusedTokens, java.util.Optional.empty());
    }

    /**
     * @param queryKeys the attention settings of the model's architecture, when known: with the query and key
     *                  weights the site map locates, they give QK attribution
     */
    OnnxTransformerModel(Path directory, ModelConfig config, OnnxModelFile file, ResolvedSites sites,
                         ModelInputs inputs, Sessions sessions, java.util.Map<Integer, String> refusedTokens,
                         java.util.Optional<OnnxModelConfig.QueryKeySettings> queryKeys) {
        super(OnnxBackendProvider.NAME, directory, config, sites.sites(),
                OnnxCapabilities.of(config, sites, inputs, sessions.device(), queryKeys.isPresent()), "ONNX",
                refusedTokens);
        this.queryKeys = queryKeys;
        this.file = file;
        this.sites = sites;
        this.inputs = inputs;
        this.sessions = sessions;
        this.weights = new Weights(file, sites, describe());
    }

    @Override
    public ForwardResult forward(NDManager manager, TokenSequence tokens, List<Hook> hooks) {
        checkForward(manager, tokens, hooks);
        ModelConfig config = config();
        try (HookFeeds feeds = HookFeeds.prepare(hooks, sites(), shapes(0, tokens.length()), sessions.environment(),
                capabilities(), describe());
             Pass pass = run(tokens.ids(), 0, null, feeds, false)) {
            NDArray logits = array(manager, pass.output(ModelInputs.LOGITS), tokens.length(), config.vocabularySize());
            Map<HookSite, NDArray> captured = new LinkedHashMap<>();
            feeds.captures().forEach((site, step) -> captured.put(site,
                    array(manager, pass.output(pass.captureName(step)), shapes(0, tokens.length()).of(site.kind()))));
            return new ForwardResult(logits, captured);
        }
    }

    /** The site shapes of a pass over {@code n} positions from {@code first}. */
    SiteShapes shapes(int first, int n) {
        return new SiteShapes(first, n, config().modelWidth(), config().heads(), config().vocabularySize());
    }

    /**
     * Runs the graph hooked as {@code feeds} says on {@code ids} at positions {@code first …}.
     *
     * @param past     the previous pass (its presents are this pass's past keys and values), or null
     * @param presents whether to fetch the present keys and values (for the next pass)
     */
    Pass run(int[] ids, int first, Pass past, HookFeeds feeds, boolean presents) {
        Sessions.Lease lease = sessions.get(feeds.signature());
        Map<String, OnnxTensor> feed = new HashMap<>(feeds.inputs());
        Map<String, OnnxTensor> created = inputs.create(sessions.environment(), ids, first,
                past == null ? null : past.outputs(), feed);
        Set<String> requested = new HashSet<>();
        requested.add(ModelInputs.LOGITS);
        feeds.captures().values().forEach(step -> requested.add(lease.captures().get(step)));
        if (presents) {
            requested.addAll(inputs.presentNames());
        }
        try {
            OrtSession.Result result = lease.session().run(feed, requested);
            return new Pass(lease, result);
        } catch (OrtException e) {
            lease.close();
            throw new CircuitTracerException(StandardErrorCode.PLUGIN_FAILURE, "ONNX Runtime failed on "
                    + describe() + ": " + e.getMessage(), e);
        } finally {
            created.values().forEach(OnnxTensor::close);
        }
    }

    /** The outputs of one run; closing releases them and the session. */
    static final class Pass implements AutoCloseable {
        private final Sessions.Lease lease;
        private final OrtSession.Result result;
        private final Map<String, OnnxValue> outputs = new HashMap<>();

        Pass(Sessions.Lease lease, OrtSession.Result result) {
            this.lease = lease;
            this.result = result;
            result.forEach(e -> outputs.put(e.getKey(), e.getValue()));
        }

        Map<String, OnnxValue> outputs() {
            return outputs;
        }

        OnnxTensor output(String name) {
            return (OnnxTensor) outputs.get(name);
        }

        String captureName(GraphSurgery.StepId step) {
            return lease.captures().get(step);
        }

        @Override
        public void close() {
            result.close();
            lease.close();
        }
    }

    /** A graph output (batch axis 1) as a float32 array of {@code manager} with shape {@code dims}. */
    static NDArray array(NDManager manager, OnnxTensor tensor, long... dims) {
        float[] values = new float[tensor.getFloatBuffer().remaining()];
        tensor.getFloatBuffer().get(values);
        long expected = Arrays.stream(dims).reduce(1, (a, b) -> a * b);
        if (values.length != expected) {
            throw new CircuitTracerException(StandardErrorCode.PLUGIN_FAILURE, "An ONNX Runtime output has shape "
                    + Arrays.toString(tensor.getInfo().getShape()) + ", expected " + Arrays.toString(dims)
                    + " (batch 1); the site map points at the wrong tensor.");
        }
        return manager.create(values, new Shape(dims));
    }

    @Override
    public LinearizedModel linearize(NDManager manager, TokenSequence tokens, LinearizationSpec spec) {
        checkLinearize(manager, spec);
        NDManager state = manager.newSubManager();
        try {
            List<Hook> captures = OnnxLinearization.recordedSites(sites(), spec).stream()
                    .<Hook>map(Hook.Capture::new).toList();
            ForwardResult clean = forward(state, tokens, captures);
            java.util.Optional<OnnxModelConfig.QueryKeySettings> qk = capabilities().contains(
                    org.circuittracer.spi.model.BackendCapability.QK_ATTRIBUTION) ? queryKeys
                    : java.util.Optional.empty();
            List<Hook> inputs = sites().stream().filter(s -> s.kind() == org.circuittracer.spi.site.SiteKind.RESID_PRE)
                    .<Hook>map(Hook.Capture::new).toList();
            return OnnxLinearization.of(config(), sites(), weights, sites.map().layerNorm(), tokens, spec, state,
                    clean.captured(), qk, () -> forward(state, tokens, inputs).captured());
        } catch (RuntimeException e) {
            state.close();
            throw e;
        }
    }

    @Override
    public GenerationResult generate(NDManager manager, GenerationRequest request) {
        checkGeneration(manager, request);
        return GenerationLoop.run(manager, config(), request, new OnnxGeneration(this, request.hooks(), describe()));
    }

    @Override
    public NDArray unembeddingVectors(NDManager manager, int[] tokenIds) {
        Capability.require("backend", OnnxBackendProvider.NAME, capabilities(), BackendCapability.UNEMBEDDING,
                "logit attribution targets");
        Objects.requireNonNull(manager, "manager");
        requireOpen();
        ModelLimits.requireTokenIds(tokenIds, config().vocabularySize(), describe());
        Weights.Matrix u = unembedding();
        int d = (int) u.dims()[0];
        int vocabulary = (int) u.dims()[1];
        float[] rows = new float[tokenIds.length * d];
        for (int i = 0; i < tokenIds.length; i++) {
            for (int j = 0; j < d; j++) {
                rows[i * d + j] = u.values()[j * vocabulary + tokenIds[i]];
            }
        }
        return manager.create(rows, new Shape(tokenIds.length, d));
    }

    @Override
    public NDArray meanUnembeddingVector(NDManager manager) {
        Capability.require("backend", OnnxBackendProvider.NAME, capabilities(), BackendCapability.UNEMBEDDING,
                "logit attribution targets");
        Objects.requireNonNull(manager, "manager");
        requireOpen();
        Weights.Matrix u = unembedding();
        int d = (int) u.dims()[0];
        int vocabulary = (int) u.dims()[1];
        float[] mean = new float[d];
        for (int j = 0; j < d; j++) {
            double sum = 0;
            for (int v = 0; v < vocabulary; v++) {
                sum += u.values()[j * vocabulary + v];
            }
            mean[j] = (float) (sum / vocabulary);
        }
        return manager.create(mean);
    }

    private Weights.Matrix unembedding() {
        Weights.Matrix u = weights.matrix("unembed.W_U");
        ModelConfig config = config();
        if (u.dims().length != 2 || u.dims()[0] != config.modelWidth() || u.dims()[1] != config.vocabularySize()) {
            throw file.malformed("the unembedding " + Arrays.toString(u.dims()) + " is not [d, V] = ["
                    + config.modelWidth() + ", " + config.vocabularySize() + "]");
        }
        return u;
    }

    Sessions sessions() {
        return sessions;
    }

    /** The located weights and the arrays cached for {@code linearize} (for tests). */
    Weights weights() {
        return weights;
    }

    @Override
    protected void release() {
        sessions.close();
        weights.close();
    }
}

package org.circuittracer.attribution.exact;

import ai.djl.ndarray.NDManager;
import java.util.Objects;
import java.util.Set;
import org.circuittracer.attribution.replacement.ReplacementModel;
import org.circuittracer.attribution.targets.LogitTargets;
import org.circuittracer.spi.Capability;
import org.circuittracer.spi.attribution.AttributionListener;
import org.circuittracer.spi.attribution.AttributionRequest;
import org.circuittracer.spi.attribution.Attributor;
import org.circuittracer.spi.graph.AttributionGraph;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;

/**
 * Exact direct effects (docs/reference/algorithm.md §3): every row is one lane of the backend's vector-Jacobian product of the
 * linearised model, contracted with the sources' write vectors. Stateless and thread-safe; each call works in its own
 * native memory scope, released before it returns.
 *
 * <p>The prompt goes through the special-token rule first ({@link ReplacementModel#prepare}, idempotent), so the graph's
 * tokens may have one more token than the request's. Token targets (salient, ids, strings) also need
 * {@link BackendCapability#UNEMBEDDING}; custom targets do not.
 */
public final class ExactAttributor implements Attributor {

    @Override
    public Set<BackendCapability> requiredCapabilities() {
        return Set.of(BackendCapability.VJP);
    }

    @Override
    public AttributionGraph attribute(AttributionRequest request, AttributionListener listener) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(listener, "listener");
        TransformerModel model = request.model();
        for (BackendCapability needed : requiredCapabilities()) {
            Capability.require("backend", model.backendName(), model.capabilities(), needed, "attribution");
        }
        if (LogitTargets.needsUnembedding(request.targets())) {
            Capability.require("backend", model.backendName(), model.capabilities(), BackendCapability.UNEMBEDDING,
                    "logit attribution targets (use custom targets otherwise)");
        }
        ReplacementModel replacement = ReplacementModel.of(model, request.dictionary());
        TokenSequence tokens = replacement.prepare(request.tokens());
        Progress progress = new Progress(listener);
        progress.checkCancelled();
        try (NDManager manager = NDManager.newBaseManager()) {
            return new AttributionRun(request, replacement, tokens, progress, manager).execute();
        }
    }
}

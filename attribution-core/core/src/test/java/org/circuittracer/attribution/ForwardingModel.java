package org.circuittracer.attribution;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.Set;
import org.circuittracer.spi.model.BackendCapability;
import org.circuittracer.spi.model.ForwardResult;
import org.circuittracer.spi.model.GenerationRequest;
import org.circuittracer.spi.model.GenerationResult;
import org.circuittracer.spi.model.Hook;
import org.circuittracer.spi.model.LinearizationSpec;
import org.circuittracer.spi.model.LinearizedModel;
import org.circuittracer.spi.model.ModelConfig;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.Tokenizer;
import org.circuittracer.spi.model.TransformerModel;
import org.circuittracer.spi.site.HookSite;

/** Test scope: a model that forwards every call to another; subclasses change what they need. */
public class ForwardingModel implements TransformerModel {

    protected final TransformerModel model;

    public ForwardingModel(TransformerModel model) {
        this.model = model;
    }

    @Override
    public String backendName() {
        return model.backendName();
    }

    @Override
    public ModelConfig config() {
        return model.config();
    }

    @Override
    public Tokenizer tokenizer() {
        return model.tokenizer();
    }

    @Override
    public Set<BackendCapability> capabilities() {
        return model.capabilities();
    }

    @Override
    public List<HookSite> sites() {
        return model.sites();
    }

    @Override
    public ForwardResult forward(NDManager manager, TokenSequence tokens, List<Hook> hooks) {
        return model.forward(manager, tokens, hooks);
    }

    @Override
    public LinearizedModel linearize(NDManager manager, TokenSequence tokens, LinearizationSpec spec) {
        return model.linearize(manager, tokens, spec);
    }

    @Override
    public GenerationResult generate(NDManager manager, GenerationRequest request) {
        return model.generate(manager, request);
    }

    @Override
    public NDArray unembeddingVectors(NDManager manager, int[] tokenIds) {
        return model.unembeddingVectors(manager, tokenIds);
    }

    @Override
    public NDArray meanUnembeddingVector(NDManager manager) {
        return model.meanUnembeddingVector(manager);
    }

    @Override
    public void close() {
        model.close();
    }
}

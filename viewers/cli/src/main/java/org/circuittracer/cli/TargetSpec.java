package org.circuittracer.cli;

import java.util.List;

import org.circuittracer.spi.attribution.AttributionTargets;
import org.circuittracer.spi.model.TransformerModel;

/**
 * The {@code --target} values of {@code attribute}; the parsing lives in attribution-core
 * ({@link org.circuittracer.attribution.targets.TargetSpec}), where the viewer's New graph form uses it too.
 */
final class TargetSpec {

    private TargetSpec() {
    }

    /** The targets for {@code values} (non-empty), resolved with the model's tokenizer and unembedding. */
    static AttributionTargets resolve(List<String> values, TransformerModel model) {
        return org.circuittracer.attribution.targets.TargetSpec.resolve(values, model, "--target");
    }
}

package org.circuittracer.spi.attribution;

import java.util.Objects;
import org.circuittracer.spi.CircuitTracerException;
import org.circuittracer.spi.StandardErrorCode;
import org.circuittracer.spi.dictionary.SparseDictionary;
import org.circuittracer.spi.model.TokenSequence;
import org.circuittracer.spi.model.TransformerModel;

/**
 * One attribution job (docs/reference/algorithm.md §3.1).
 *
 * @param model           the model, with {@code VJP}
 * @param dictionary      the dictionary set, fitting the model
 * @param tokens          the prompt, already tokenised (special-token rules applied)
 * @param targets         what to explain
 * @param maxFeatureNodes cap on feature nodes, chosen by influence (0 = all active features)
 * @param batchSize       targets per VJP batch
 * @param updateInterval  VJP batches between influence re-rankings
 */
public record AttributionRequest(TransformerModel model, SparseDictionary dictionary, TokenSequence tokens,
                                 AttributionTargets targets, int maxFeatureNodes, int batchSize, int updateInterval) {

    public AttributionRequest {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(dictionary, "dictionary");
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(targets, "targets");
        if (maxFeatureNodes < 0) {
            throw invalid("max-feature-nodes must be >= 0 (0 = all), got " + maxFeatureNodes);
        }
        if (batchSize < 1) {
            throw invalid("batch-size must be >= 1, got " + batchSize);
        }
        if (updateInterval < 1) {
            throw invalid("update-interval must be >= 1, got " + updateInterval);
        }
    }

    /** The CLI's defaults: salient logits, 7,500 feature nodes, batches of 256, re-rank every 4 batches. */
    public static AttributionRequest withDefaults(TransformerModel model, SparseDictionary dictionary, TokenSequence tokens) {
        return new AttributionRequest(model, dictionary, tokens, AttributionTargets.Salient.defaults(), 7500, 256, 4);
    }

    private static CircuitTracerException invalid(String message) {
        return new CircuitTracerException(StandardErrorCode.INVALID_ARGUMENT, "Invalid attribution setting: " + message + ".");
    }
}

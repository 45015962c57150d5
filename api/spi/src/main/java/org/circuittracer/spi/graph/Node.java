package org.circuittracer.spi.graph;

import java.util.Objects;
import org.circuittracer.spi.CircuitTracerException;
import org.osgi.annotation.versioning.ProviderType;

/** A node of an attribution graph. Node order in a graph is: features, errors, tokens, logits (docs/reference/algorithm.md §3.4). */
@ProviderType
public sealed interface Node {

    /** The sequence position the node belongs to. */
    int position();

    /**
     * An active dictionary feature.
     *
     * @param layer       source layer
     * @param position    sequence position
     * @param feature     feature id within the layer
     * @param activation  its activation value
     * @param activeIndex its index in the graph's full list of active features
     */
    record FeatureNode(int layer, int position, int feature, float activation, int activeIndex) implements Node {
        public FeatureNode {
            requireNonNegative("layer", layer);
            requireNonNegative("position", position);
            requireNonNegative("feature", feature);
            requireNonNegative("activeIndex", activeIndex);
        }
    }

    /** The reconstruction error of the dictionary at (layer, position). */
    record ErrorNode(int layer, int position) implements Node {
        public ErrorNode {
            requireNonNegative("layer", layer);
            requireNonNegative("position", position);
        }
    }

    /** The embedding of the prompt token at {@code position}. */
    record TokenNode(int position, int tokenId) implements Node {
        public TokenNode {
            requireNonNegative("position", position);
            requireNonNegative("tokenId", tokenId);
        }
    }

    /**
     * An attribution target at the last position: a logit, or a custom linear direction.
     *
     * @param position    the last position {@code T−1}
     * @param vocabIndex  the token id, or {@code V + i} for the i-th custom target ("virtual index")
     * @param label       the token text or the custom target's label
     * @param weight      the target's weight for influence (its probability for logits)
     */
    record LogitNode(int position, int vocabIndex, String label, float weight) implements Node {
        public LogitNode {
            requireNonNegative("position", position);
            requireNonNegative("vocabIndex", vocabIndex);
            Objects.requireNonNull(label, "label");
        }
    }

    private static void requireNonNegative(String field, int value) {
        if (value < 0) {
            throw CircuitTracerException.invalidArgument(field + " must be >= 0, got " + value);
        }
    }
}

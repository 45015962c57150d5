package org.circuittracer.viewer.graph;

/** What a graph node is, from its {@code feature_type} (docs/reference/graph-format.md §2.4.1). */
public enum NodeKind {
    FEATURE, ERROR, EMBEDDING, LOGIT;

    /** Any type containing "error" is an error; unknown types (lorsa, legacy "unexplored node") are features. */
    public static NodeKind of(String featureType) {
        if (featureType == null) {
            return FEATURE;
        }
        if (featureType.contains("error")) {
            return ERROR;
        }
        return switch (featureType) {
            case "embedding" -> EMBEDDING;
            case "logit" -> LOGIT;
            default -> FEATURE;
        };
    }

    /** Embeddings and logits are always shown, whatever the thresholds. */
    public boolean alwaysShown() {
        return this == EMBEDDING || this == LOGIT;
    }
}

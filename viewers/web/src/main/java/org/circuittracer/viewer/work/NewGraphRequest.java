package org.circuittracer.viewer.work;

import java.util.List;
import org.circuittracer.viewer.ViewerErrors;
import org.circuittracer.viewer.graph.GraphStore;

/**
 * A new graph to attribute (the CLI's {@code attribute} options).
 *
 * @param prompt           the prompt text (a special token is prepended as the reference does); or {@code null} when
 *                         {@code promptIds} are given
 * @param promptIds        token ids used verbatim, or {@code null}
 * @param slug             the new graph's name
 * @param maxNLogits       most logits to attribute from
 * @param desiredLogitProb stop adding logits once their probability reaches this
 * @param maxFeatureNodes  most feature nodes (0 = all)
 * @param batchSize        rows per backward batch
 * @param nodeThreshold    node pruning threshold of the exported file
 * @param edgeThreshold    edge pruning threshold of the exported file
 * @param targets          what to explain, as {@code attribute --target} takes it ({@code TargetSpec}): tokens
 *                         ({@code Austin}, {@code #1234}) or logit differences {@code A-B}; empty = the salient logits
 *                         ({@code maxNLogits}, {@code desiredLogitProb})
 */
public record NewGraphRequest(String prompt, int[] promptIds, String slug, int maxNLogits, double desiredLogitProb,
                              int maxFeatureNodes, int batchSize, double nodeThreshold, double edgeThreshold,
                              List<String> targets) {

    /** Explaining the salient logits. */
    public NewGraphRequest(String prompt, int[] promptIds, String slug, int maxNLogits, double desiredLogitProb,
                           int maxFeatureNodes, int batchSize, double nodeThreshold, double edgeThreshold) {
        this(prompt, promptIds, slug, maxNLogits, desiredLogitProb, maxFeatureNodes, batchSize, nodeThreshold,
                edgeThreshold, List.of());
    }

    public NewGraphRequest {
        if ((prompt == null || prompt.isBlank()) && (promptIds == null || promptIds.length == 0)) {
            throw ViewerErrors.badRequest("Give a prompt (text) or promptIds (token ids).");
        }
        if (prompt != null && prompt.length() > 20_000) {
            throw ViewerErrors.badRequest("The prompt has " + prompt.length() + " characters; at most 20000.");
        }
        GraphStore.checkSlug(slug);
        promptIds = promptIds == null ? null : promptIds.clone();
        targets = targets == null ? List.of() : targets.stream().map(String::strip).filter(t -> !t.isEmpty()).toList();
        if (targets.size() > 100) {
            throw ViewerErrors.badRequest("At most 100 targets, got " + targets.size() + ".");
        }
        range("maxNLogits", maxNLogits, 1, 1000);
        range("maxFeatureNodes", maxFeatureNodes, 0, 1_000_000);
        range("batchSize", batchSize, 1, 65_536);
        unit("desiredLogitProb", desiredLogitProb);
        unit("nodeThreshold", nodeThreshold);
        unit("edgeThreshold", edgeThreshold);
        if (desiredLogitProb == 0) {
            throw ViewerErrors.badRequest("desiredLogitProb must be above 0.");
        }
    }

    @Override
    public int[] promptIds() {
        return promptIds == null ? null : promptIds.clone();
    }

    private static void range(String name, int v, int min, int max) {
        if (v < min || v > max) {
            throw ViewerErrors.badRequest(name + " must be in [" + min + ", " + max + "], got " + v + ".");
        }
    }

    private static void unit(String name, double v) {
        if (!(v >= 0 && v <= 1)) {
            throw ViewerErrors.badRequest(name + " must be in [0, 1], got " + v + ".");
        }
    }
}

package org.circuittracer.viewer.graph;

import java.util.Set;
import org.circuittracer.viewer.ViewerErrors;

/**
 * What part of a graph the browser wants (the pruned view of {@link GraphView}).
 *
 * @param pruningThreshold  keep features and errors whose cumulative influence is at most this ({@code null}: all)
 * @param densityThreshold  hide features whose activation frequency is above this ({@code null}: no density filter;
 *                          needs feature files)
 * @param maxNodes          most nodes to send; beyond it the least influential features and errors are left out
 * @param maxLinks          most links to send; beyond it the weakest (by share of their target's input) are left out
 * @param keep              node ids always sent (pinned, selected, supernode members)
 */
public record ViewRequest(Double pruningThreshold, Double densityThreshold, int maxNodes, int maxLinks,
                          Set<String> keep) {

    public static final int DEFAULT_MAX_NODES = 1500;
    public static final int DEFAULT_MAX_LINKS = 12_000;
    public static final int LIMIT_NODES = 50_000;
    public static final int LIMIT_LINKS = 1_000_000;

    public ViewRequest {
        checkUnit("pruningThreshold", pruningThreshold);
        checkUnit("densityThreshold", densityThreshold);
        if (maxNodes < 1 || maxNodes > LIMIT_NODES) {
            throw ViewerErrors.badRequest("maxNodes must be in [1, " + LIMIT_NODES + "], got " + maxNodes + ".");
        }
        if (maxLinks < 0 || maxLinks > LIMIT_LINKS) {
            throw ViewerErrors.badRequest("maxLinks must be in [0, " + LIMIT_LINKS + "], got " + maxLinks + ".");
        }
        keep = Set.copyOf(keep);
    }

    /** Everything, up to the default caps. */
    public static ViewRequest defaults() {
        return new ViewRequest(null, null, DEFAULT_MAX_NODES, DEFAULT_MAX_LINKS, Set.of());
    }

    private static void checkUnit(String name, Double value) {
        if (value != null && !(value >= 0 && value <= 1)) {
            throw ViewerErrors.badRequest(name + " must be a number in [0, 1], got " + value + ".");
        }
    }
}

package org.circuittracer.attribution.prune;

/**
 * What {@link GraphPruning} keeps.
 *
 * @param nodeMask          per node (graph order): kept
 * @param edgeMask          per <em>stored</em> entry of the adjacency (CSR storage order): kept
 * @param cumulativeScores  per node: the fraction of total influence held by nodes at least as influential
 *                          (smaller = more important; logit nodes, with no influence, come last)
 * @param unstoredEdgesKept true only in the degenerate case where the edge threshold came out as 0: the reference then
 *                          also marks every zero entry of the matrix as kept, which a sparse mask cannot list
 */
public record PruneResult(boolean[] nodeMask, boolean[] edgeMask, double[] cumulativeScores, boolean unstoredEdgesKept) {

    public PruneResult {
        nodeMask = nodeMask.clone();
        edgeMask = edgeMask.clone();
        cumulativeScores = cumulativeScores.clone();
    }

    @Override
    public boolean[] nodeMask() {
        return nodeMask.clone();
    }

    @Override
    public boolean[] edgeMask() {
        return edgeMask.clone();
    }

    @Override
    public double[] cumulativeScores() {
        return cumulativeScores.clone();
    }

    public boolean keepsNode(int node) {
        return nodeMask[node];
    }

    public int keptNodes() {
        int n = 0;
        for (boolean b : nodeMask) {
            n += b ? 1 : 0;
        }
        return n;
    }

    public int keptEdges() {
        int n = 0;
        for (boolean b : edgeMask) {
            n += b ? 1 : 0;
        }
        return n;
    }
}
